import Foundation
import MarginCore

/// The short line that dates an article ("Thứ Hai, 20/10/2025, 09:15 GMT+7", "March 14,
/// 2026 · 5 min read", "12.10.2015, 19:16 Uhr"), and the date it gives.
enum Dateline {
    /// Whether `text` is a dateline: few words, not a sentence, and a date in it — day,
    /// month and year in digits, or a month's name and a year.
    static func matches(_ text: String) -> Bool {
        // Cheap refusals first: most lines asked about are sentences or have no year.
        guard text.utf8.count < 240, !text.hasSuffix("."), text.utf8.count(where: { (0x30...0x39).contains($0) }) >= 4 else {
            return false
        }
        let words = self.words(text)
        guard words.count <= 8, text.count < 60 else { return false }
        if words.contains(where: { numbers(in: $0).count >= 3 && numbers(in: $0).contains(where: isYear) }) { return true }
        let named = words.contains { months[trimmed($0)] != nil }
        return named && words.contains { numbers(in: $0).contains(where: isYear) }
    }

    /// The date in a dateline. Digits are read day first, as most of the world writes
    /// them, except on a page in American English or when the first cannot be a month.
    static func date(in text: String, language: String?) -> CalendarDate? {
        let words = self.words(text)
        let monthFirst = language?.lowercased() == "en-us"
        for word in words {
            let numbers = numbers(in: word)
            guard numbers.count >= 3 else { continue }
            let (first, second, third) = (numbers[0], numbers[1], numbers[2])
            if isYear(first) { return day(first, second, third) }
            guard isYear(third) else { continue }
            return monthFirst && first <= 12 || second > 12 ? day(third, first, second) : day(third, second, first)
        }
        guard let year = words.lazy.flatMap(numbers).first(where: isYear) else { return nil }
        for (index, word) in words.enumerated() {
            guard let named = months[trimmed(word)] else { continue }
            // "tháng 10": the month is the number after the word for month.
            let month = named > 0 ? named : (index + 1 < words.count ? numbers(in: words[index + 1]).first : nil)
            let neighbours = [index - 1, named > 0 ? index + 1 : index - 1].filter { words.indices.contains($0) }
            let dayOfMonth = neighbours.lazy.flatMap { numbers(in: words[$0]) }.first { (1...31).contains($0) }
            if let month, let dayOfMonth { return day(year, month, dayOfMonth) }
        }
        return nil
    }

    private static func day(_ year: Int, _ month: Int, _ day: Int) -> CalendarDate? {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return CalendarDate("\(year)-\(two(month))-\(two(day))")
    }

    private static func words(_ text: String) -> [String] {
        text.lowercased().unicodeScalars.split(whereSeparator: \.isSpace).map { String(String.UnicodeScalarView($0)) }
    }

    /// `word` without the punctuation around it ("14," "march,").
    private static func trimmed(_ word: String) -> String {
        let isPunctuation: (Character) -> Bool = { $0.isPunctuation }
        return String(word.drop(while: isPunctuation).reversed().drop(while: isPunctuation).reversed())
    }

    /// The runs of ASCII digits in `word`.
    private static func numbers(in word: String) -> [Int] {
        word.split { !$0.isASCII || !$0.isNumber }.compactMap { Int($0) }
    }

    private static func isYear(_ number: Int) -> Bool {
        (1900...2099).contains(number)
    }

    /// Month names and their numbers, in the languages margin meets most; the word for
    /// month, which a number follows, is 0.
    private static let months: [String: Int] = [
        "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
        "september": 9, "october": 10, "november": 11, "december": 12,
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11,
        "dec": 12,
        "januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
        "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8, "septembre": 9,
        "octobre": 10, "novembre": 11, "décembre": 12,
        "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
        "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
        "tháng": 0,
    ]
}
