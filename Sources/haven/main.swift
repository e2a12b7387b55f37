import HavenCommands

#if canImport(Glibc)
    import Glibc

    // A first sync frees a page's body, its parsed JSON and its decoded records before the next
    // page brings as much again. glibc's malloc keeps such freed blocks in one arena per thread
    // that touched them, and after the first large block is freed it stops giving large blocks
    // their own mapping, so they too stay in the arenas: a 100,000-record sync held 11 MiB free
    // beside 5 MiB in use, and crept by a few MiB over the run. One arena and a fixed mmap
    // threshold return them to the system instead (BENCHMARKS.md, client memory). The command is
    // never busy on more than a thread or two, so one arena costs it nothing measurable.
    //
    // mallopt and its M_ constants are in <malloc.h>, which the Glibc module leaves out.
    if let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") {
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let arenaMax: Int32 = -8  // M_ARENA_MAX
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        _ = mallopt(arenaMax, 1)
        _ = mallopt(mmapThreshold, 128 << 10)
    }
#endif

await HavenCommand.runMain()
