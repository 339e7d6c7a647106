import ArgumentParser
import SwitchboardCommand

await SwitchboardCommand.main()
