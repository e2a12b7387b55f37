import HavenCore
