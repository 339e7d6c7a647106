import ArgumentParser
import SwitchboardCommand

// ArgumentParser's asynchronous entry point is chosen only through `@main` (top-level code picks
// the synchronous one).
@main
extension SwitchboardCommand {}
