import ArgumentParser
let engineCommands: [ParsableCommand.Type] = []
