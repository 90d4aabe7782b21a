import FuzzDriver
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer driver for the `capture` target (FuzzHarness.capture). Built and run by `scripts/fuzz capture SECONDS`.
exit(stunscope_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, count in
    FuzzHarness.capture(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
