// The one JSON string escaper: run identities hash canonical JSON (DeepNetHarness's JSONValue) and
// `deepnet bleu --json` prints sacreBLEU's JSON line, so both must escape a string the same way
// (RFC 8259 §7: quote, backslash and control characters; everything else literal, as Python's
// json.dumps(ensure_ascii=False) does).

/// Appends `s` as a quoted JSON string to `out`.
public func appendJSONQuoted(_ s: String, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out += "\""
}

/// `s` as a quoted JSON string.
public func jsonQuoted(_ s: String) -> String {
    var out = ""
    appendJSONQuoted(s, into: &out)
    return out
}
