/// Reading hypothesis/reference files for BLEU exactly as the sacreBLEU CLI does
/// (strict UTF-8, LF-split lines, each line right-stripped), with clear errors.
public enum BLEUFiles {
    /// Returns the hypotheses and one stream per reference file. Errors: missing file, invalid
    /// UTF-8 (file + line), empty hypothesis file, line-count mismatch (naming both files and counts).
    public static func read(hypothesis: String, references: [String]) throws -> (hypotheses: [String], references: [[String]]) {
        func load(_ p: String) throws -> [String] {
            try TextIO.readLines(p).map { PythonText.string(PythonText.rstrip(PythonText.scalars($0))) }
        }
        guard !references.isEmpty else { throw DataError.invalidArgument("no reference file given") }
        let hyps = try load(hypothesis)
        if hyps.isEmpty { throw DataError.emptyInput(path: hypothesis) }
        var refs: [[String]] = []
        for r in references {
            let lines = try load(r)
            if lines.count != hyps.count {
                throw DataError.lineCountMismatch(sourcePath: hypothesis, sourceLines: hyps.count, targetPath: r, targetLines: lines.count)
            }
            refs.append(lines)
        }
        return (hyps, refs)
    }
}
