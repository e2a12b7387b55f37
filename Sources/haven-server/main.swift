import HavenServer

await HavenServerCommand.runMain()
