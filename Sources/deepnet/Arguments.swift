// Argument parsing shared by the commands.
import ArgumentParser
import Foundation

/// Transform for every floating-point flag. `Double("nan")`, `Double("inf")` and `Double("-infinity")` all parse,
/// and a non-finite learning rate, penalty or multiplier would only surface later as a diverged run, a NaN score
/// or a meaningless checkpoint; they are refused at the command line instead, naming the flag.
func finiteDouble(_ s: String) throws -> Double {
    guard let v = Double(s) else { throw ValidationError("'\(s)' is not a number") }
    guard v.isFinite else { throw ValidationError("'\(s)' is not a finite number (NaN and ±Inf are not accepted)") }
    return v
}

/// A folder or file flag given as "" would resolve to the current directory (URL(fileURLWithPath: "")), so
/// results or reports would land somewhere unintended: refused.
func requireNonEmptyPath(_ value: String?, flag: String) throws {
    if let v = value, v.trimmingCharacters(in: .whitespaces).isEmpty {
        throw ValidationError("'--\(flag)' must not be empty (give a folder, or omit the flag for the default)")
    }
}

/// A failure that is not about how the command was typed (a busy or missing results folder, missing data).
/// ArgumentParser prints it as `Error: <message>` with exit status 1; a `ValidationError` would add the usage
/// text, which only hides the message.
struct PlainError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
