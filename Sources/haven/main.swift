import HavenClient

await HavenCommand.runMain()
