import ArgumentParser
let harnessCommands: [ParsableCommand.Type] = []
