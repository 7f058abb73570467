import MarginCore
import Testing

@Suite struct DocumentParserTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var file: String
        var date: String
        var title: String
        var captions: [String]
        var bodyStart: String
        var bodyEnd: String
        var paragraphs: Int

        var testDescription: String { file }
    }

    static let seeds: [Expectation] = [
        Expectation(
            file: "000_ce75f4c29c345759.txt", date: "2025-10-23",
            title: "Người phát ngôn Bộ Ngoại giao Maria Zakharova ngày 23/10 cho biết, Nga “đã lưu…",
            captions: ["Người phát ngôn Bộ Ngoại giao Nga Maria Zakharova (Ảnh: Reuters)."],
            bodyStart: "Người phát ngôn Bộ Ngoại giao Maria Zakharova ngày 23/10",
            bodyEnd: "“Chúng tôi sẽ luôn quan tâm tới việc đối thoại nếu có cơ hội để đạt được hòa bình”, ông Rubio nhấn mạnh.",
            paragraphs: 13),
        Expectation(
            file: "001_eede1ab4931b32b1.txt", date: "2025-10-17",
            title: "Người phát ngôn Điện Kremlin Dmitry Peskov ngày 17/10 cho biết Ngoại trưởng Nga…",
            captions: ["Tổng thống Nga Vladimir Putin và Tổng thống Mỹ Donald Trump gặp nhau tại Alaska vào tháng 8 (Ảnh: Reuters)."],
            bodyStart: "Người phát ngôn Điện Kremlin Dmitry Peskov ngày 17/10",
            bodyEnd: "hai quốc gia vẫn có thể \"làm được nhiều điều\".",
            paragraphs: 13),
        Expectation(
            file: "002_86c17f319f38c786.txt", date: "2025-11-22",
            title: "Reuters đưa tin Thứ trưởng Ngoại giao Nga Sergei Ryabkov ngày 22/11 cho biết…",
            captions: [],
            bodyStart: "Reuters đưa tin Thứ trưởng Ngoại giao Nga Sergei Ryabkov",
            bodyEnd: "và sau đó có thể bổ sung Trung Quốc.",
            paragraphs: 14),
        Expectation(
            file: "003_4a61cf19eb0ae3c9.txt", date: "2025-10-20",
            title: "Bộ Ngoại giao Nga ngày 20/10 thông báo Ngoại trưởng Nga Sergey Lavrov đã có…",
            captions: [
                "Ngoại trưởng Mỹ Marco Rubio (phải) bắt tay Ngoại trưởng Nga Sergey Lavrov trong cuộc gặp tại Ả rập Xê út vào tháng 2 (Ảnh: EPA)."
            ],
            bodyStart: "Bộ Ngoại giao Nga ngày 20/10 thông báo",
            bodyEnd: "cho hợp tác kinh tế giữa Mỹ và Nga.",
            paragraphs: 16),
        Expectation(
            file: "004_e0e308906b95cf95.txt", date: "2025-10-03",
            title: "Theo Thứ trưởng Bộ Ngoại giao Nga Sergei Ryabkov, hiện vẫn chưa có ngày cụ thể…",
            captions: [
                "Tổng thống Mỹ (phải) và Tổng thống Nga trong cuộc họp báo chung tại Căn cứ Elmendorf-Richardson ở Anchorage, bang Alaska (Mỹ), ngày 15/8 (Ảnh: THX/TTXVN)",
                "Thứ trưởng Bộ Ngoại giao Nga Sergei Ryabkov (Ảnh: Information and Press Department of the Russian Foreign Ministry)",
            ],
            bodyStart: "Theo Thứ trưởng Bộ Ngoại giao Nga Sergei Ryabkov, hiện vẫn chưa có ngày cụ thể",
            bodyEnd: "Moscow xác nhận tiến trình đàm phán rơi vào đình trệ.",
            paragraphs: 11),
    ]

    @Test(arguments: seeds)
    func parsesEverySeed(_ expected: Expectation) throws {
        let document = try DocumentParser.parse(Fixtures.seed(expected.file), fileName: expected.file)

        #expect(document.format == .seed)
        #expect(document.published?.description == expected.date)
        #expect(document.title == expected.title)
        #expect(document.captions == expected.captions)
        #expect(document.body.hasPrefix(expected.bodyStart))
        #expect(document.body.hasSuffix(expected.bodyEnd))
        #expect(document.body.components(separatedBy: "\n\n").count == expected.paragraphs)
        #expect(!document.body.contains("(Ảnh:"))
        #expect(!document.body.contains("./."))
        #expect(document.body == ArticleText.normalize(document.body))
    }

    @Test func titleKeepsShortFirstSentenceWhole() {
        #expect(DocumentParser.title(fromLead: "Ngắn gọn. Câu thứ hai dài hơn nhiều.") == "Ngắn gọn")
        #expect(DocumentParser.title(fromLead: "Có chuyện gì? Không.") == "Có chuyện gì?")
    }

    @Test func longTitleIsCutAtAWordBoundary() {
        let lead = String(repeating: "từ ", count: 60) + "cuối."
        let title = DocumentParser.title(fromLead: lead)
        #expect(title.count <= DocumentParser.titleLength + 1)
        #expect(title.hasSuffix("từ…"))
    }

    @Test func seedWithCRLFAndByteOrderMarkParses() throws {
        let text = "\u{FEFF} date 2024-02-29 Lead sentence here. More.\r\n\r\nSecond paragraph.\r\n"
        let document = try DocumentParser.parse(Array(text.utf8), fileName: "x.txt")
        #expect(document.published?.description == "2024-02-29")
        #expect(document.body == "Lead sentence here. More.\n\nSecond paragraph.")
        #expect(document.title == "Lead sentence here")
    }

    @Test func decomposedTextIsStoredComposed() throws {
        let nfd = " date 2025-01-01 Ho\u{302}\u{323}i nghi\u{323} tho\u{302}ng qua."
        let document = try DocumentParser.parse(Array(nfd.utf8), fileName: "nfd.txt")
        #expect(document.body == "Hội nghị thông qua.")
        #expect(document.body.unicodeScalars.count == 19)
    }

    @Test func plainTextAndMarkdownImportWithoutADate() throws {
        let text = try DocumentParser.parse(Array("First line. Rest.\n\nMore text.".utf8), fileName: "notes.txt")
        #expect(text.format == .plainText)
        #expect(text.published == nil)
        #expect(text.title == "First line")
        #expect(text.body == "First line. Rest.\n\nMore text.")

        let markdown = try DocumentParser.parse(Array("# My heading\n\nBody text.".utf8), fileName: "notes.md")
        #expect(markdown.title == "My heading")
        #expect(markdown.body == "Body text.")
    }

    @Test(arguments: [
        ([0xFF, 0xFE, 0x41], "a.txt", "not valid UTF-8"),
        (Array("   \n\n ".utf8), "a.txt", "empty file"),
        ([], "a.txt", "empty file"),
        ([0x25, 0x50, 0x44, 0x46, 0x00, 0x01], "paper.txt", "binary file"),
        (Array("plain words".utf8), "paper.pdf", "not a known format"),
        (Array(" date 2025-13-40 Lead.".utf8), "bad.txt", "invalid date '2025-13-40'"),
    ] as [([UInt8], String, String)])
    func badFilesGetAOneLineErrorNamingTheFile(bytes: [UInt8], name: String, reason: String) {
        #expect {
            try DocumentParser.parse(bytes, fileName: name)
        } throws: { error in
            let message = (error as? MarginError)?.message ?? ""
            return message.hasPrefix("\(name): ") && message.contains(reason) && !message.contains("\n")
        }
    }

    @Test func theExtensionComesFromTheFileNameNotItsFolders() throws {
        #expect(throws: MarginError.self) {
            try DocumentParser.parse(Array("Some words.".utf8), fileName: "/tmp/notes.txt.d/README")
        }
        let document = try DocumentParser.parse(Array("Some words.".utf8), fileName: "/tmp/v1.2/notes.md")
        #expect(document.format == .plainText)
    }

    @Test func paragraphEndingInPhotoCreditIsACaption() {
        #expect(DocumentParser.isCaption("Ông Putin (Ảnh: Reuters)."))
        #expect(DocumentParser.isCaption("Ông Putin (Ảnh: THX/TTXVN)"))
        #expect(DocumentParser.isCaption("A harbour at dawn (Photo: AP)"))
        #expect(!DocumentParser.isCaption("Ông nói (trích dẫn)."))
        #expect(!DocumentParser.isCaption("(Ảnh: Reuters) rồi tiếp tục câu chuyện."))
    }
}
