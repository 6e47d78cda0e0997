import ArgumentParser
let dataCommands: [ParsableCommand.Type] = []
