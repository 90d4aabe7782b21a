import FuzzDriver
import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer driver for the `sip` target (FuzzHarness.sip). Built and run by `scripts/fuzz sip SECONDS`.
exit(stunscope_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv) { data, count in
    FuzzHarness.sip(UnsafeRawBufferPointer(start: data, count: count))
    return 0
})
