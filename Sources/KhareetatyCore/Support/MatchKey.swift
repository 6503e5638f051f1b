/// Normalises free text for matching names (categories, area names) the way people write them:
/// case, surrounding and repeated spaces, `_`, `-`, `/` and `'` between words, Arabic diacritics
/// and tatweel, and the usual Arabic spelling variants (أ إ آ → ا, ى → ي, ة → ه) do not matter.
/// With `dropArticles`, the articles of place names go too: English transliterations' "Al", "El",
/// "As", "Ad", "Ar", "Ash", "Az", "At", "An" words and the Arabic prefix "ال", so "Al-Salmiya",
/// "El Salmiya", "Salmiya" and "السالمية" / "سالمية" each meet their own kind.
enum MatchKey {
    static func normalize(_ text: String, dropArticles: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.lowercased().unicodeScalars {
            switch scalar.value {
            case 0x20, 0x09, 0x5F, 0x2D, 0x2F, 0xA0, 0x27, 0x2019: pendingSpace = !out.isEmpty  // space _ - / ' ’
            case 0x064B...0x065F, 0x0670, 0x0640: continue  // Arabic diacritics, superscript alef, tatweel
            default:
                if pendingSpace { out.append(" "); pendingSpace = false }
                switch scalar.value {
                case 0x0622, 0x0623, 0x0625: out.append("\u{0627}")  // آ أ إ → ا
                case 0x0649: out.append("\u{064A}")  // ى → ي
                case 0x0629: out.append("\u{0647}")  // ة → ه
                default: out.append(scalar)
                }
            }
        }
        let key = String(out)
        guard dropArticles else { return key }
        let articles: Set<Substring> = ["al", "el", "as", "ad", "ar", "ash", "az", "at", "an"]
        let words = key.split(separator: " ")
        let kept = words.enumerated().compactMap { index, word -> Substring? in
            if words.count > 1, articles.contains(word), index < words.count - 1 { return nil }
            if word.hasPrefix("ال"), word.count > 3 { return word.dropFirst(2) }
            return word
        }
        return kept.joined(separator: " ")
    }
}
