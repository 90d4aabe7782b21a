import FuzzDriver
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer driver for the `stun` target (FuzzHarness.stun). Built and run by `scripts/fuzz stun SECONDS`.
exit(stunscope_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, count in
    FuzzHarness.stun(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
