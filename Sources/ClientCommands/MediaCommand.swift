import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven media add|list|get` (issue 17): files of a record, kept in the replica.
struct MediaCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "media",
            abstract: Words(
                "Attach files to records, list them, and save them.",
                korean: "기록에 파일을 붙이고, 목록을 보고, 저장합니다.").text,
            discussion: Words(
                """
                Files are kept in the replica, encrypted as it is, and sent by the next sync before \
                the change that names them. Photos lose their location and device metadata unless \
                --keep-metadata is given.
                """,
                korean: """
                파일은 복제본 안에 복제본과 똑같이 암호화되어 보관되고, 다음 동기화 때 그 파일을 \
                가리키는 변경보다 먼저 보내집니다. 사진의 위치 정보와 기기 정보는 --keep-metadata를 \
                주지 않으면 지웁니다.
                """).text,
            subcommands: [Add.self, List.self, Get.self])
    }

    struct Add: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words("Attach a file to a record.", korean: "기록에 파일을 붙입니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var record: String
        @Argument(help: ArgumentHelp(Words("The file.", korean: "파일."), valueName: "file")) var file: String
        @Option(help: ArgumentHelp(Words("The name to give it (default: the file's own).", korean: "붙일 이름 (기본값: 파일 이름)."))) var name: String?
        @Option(help: ArgumentHelp(Words("Its media type (default: from the name).", korean: "미디어 유형 (기본값: 이름에서)."))) var type: String?
        @Flag(
            help: ArgumentHelp(
                Words(
                    "Keep a photo's location and device metadata (EXIF, XMP, PNG text).",
                    korean: "사진의 위치 정보와 기기 정보(EXIF, XMP, PNG 텍스트)를 지우지 않습니다.")))
        var keepMetadata = false
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        func run() throws {
            let name = self.name ?? URL(fileURLWithPath: file).lastPathComponent
            guard let type = self.type ?? MediaReference.type(forName: name) else {
                throw ClientError(
                    Words(
                        "\(name): the type cannot be told from the name: give --type, one of \(MediaReference.allowedTypes.joined(separator: ", "))",
                        korean: "\(name): 이름으로 유형을 알 수 없습니다: --type을 주세요 (\(MediaReference.allowedTypes.joined(separator: ", ")) 중 하나)"))
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ClientError(
                    Words("cannot read \(file): check the path and its permissions", korean: "\(file)을 읽을 수 없습니다: 경로와 권한을 확인하세요"))
            }
            var bytes = [UInt8](data)
            var stripped = false
            if !keepMetadata, PhotoMetadata.isPhoto(bytes) {
                guard let clean = PhotoMetadata.stripped(bytes) else {
                    throw ClientError(
                        Words(
                            "\(file) looks like a photo but could not be read to its end, so its metadata could not be removed: repair it, or give --keep-metadata",
                            korean: "\(file): 사진으로 보이지만 끝까지 읽을 수 없어 메타데이터를 지우지 못했습니다: 파일을 고치거나 --keep-metadata를 주세요"))
                }
                stripped = clean.count != bytes.count
                bytes = clean
            }
            let reference = try replica.open().addMedia(to: record, bytes: Data(bytes), name: name, type: type)
            if json { return try printJSON(reference) }
            print(
                Words(
                    "added \(name) (\(byteCount(Int(reference.size))), \(type)) to record \(record)\(stripped ? "; location and device metadata removed" : ""); 'haven sync' sends it",
                    korean: "기록 \(record)에 \(name) 파일을 붙였습니다 (\(byteCount(Int(reference.size))), \(type))\(stripped ? ". 위치 정보와 기기 정보를 지웠습니다" : ""). 'haven sync'로 보내집니다"
                ).text)
        }
    }

    struct List: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: Words("List a record's files.", korean: "기록의 파일 목록을 보여 줍니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var record: String
        @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

        /// One file as `--json` lists it.
        struct Entry: Encodable {
            var id, type, name: String
            var size: Int64
            /// Whether its bytes are all on this device, and whether the server holds them.
            var here: Bool
            var sent: Bool
        }

        func run() throws {
            let opened = try replica.open()
            let (_, files) = try opened.media(of: record)
            let entries = try files.map { file in
                let local = try opened.localMedia(file.id)
                return Entry(
                    id: file.id, type: file.type, name: file.name, size: file.size, here: local?.isComplete ?? false,
                    sent: local?.onServer ?? true)
            }
            if json { return try printJSON(entries) }
            if entries.isEmpty { return print(Words("no files", korean: "파일 없음").text) }
            for entry in entries {
                let state =
                    !entry.sent
                    ? Words("not sent yet", korean: "아직 보내지 않음")
                    : entry.here ? Words("on this device", korean: "이 기기에 있음") : Words("on the server", korean: "서버에 있음")
                print("\(TerminalText.escaped(entry.name))  \(byteCount(Int(entry.size)))  \(entry.type)  \(state.text)")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: Words(
                    "Save a record's file, downloading it first if it is not on this device.",
                    korean: "기록의 파일을 저장합니다. 이 기기에 없으면 먼저 받습니다.").text)
        }
        @OptionGroup var replica: ReplicaOptions
        @OptionGroup var options: SyncOptions
        @Argument(help: ArgumentHelp(.recordIDHelp)) var record: String
        @Argument(help: ArgumentHelp(Words("The file's name in the record.", korean: "기록 안의 파일 이름."))) var name: String
        @Option(
            name: [.short, .long],
            help: ArgumentHelp(
                Words("Where to save it (default: its name, here; - for standard output).", korean: "저장할 곳 (기본값: 여기에 그 이름으로, -이면 표준 출력)."),
                valueName: "file"))
        var output: String?

        func run() async throws {
            let opened = try replica.open()
            let (record, files) = try opened.media(of: self.record)
            guard let file = files.first(where: { $0.name == name }) else {
                throw ClientError(
                    Words(
                        "record \(record.id) has no file named \(name): see 'haven media list \(record.id)'",
                        korean: "기록 \(record.id)에 이름이 \(name)인 파일이 없습니다: 'haven media list \(record.id)'로 확인하세요"))
            }
            if try opened.localMedia(file.id)?.isComplete != true {
                let line = ProgressLine.forTerminal()
                var summary = SyncEngine.Summary()
                do {
                    try await options.engine(for: opened, progress: line).download(file, into: &summary)
                } catch {
                    line.finish()
                    throw error
                }
                line.finish()
            }
            let bytes = try opened.mediaBytes(file.id, from: 0, to: file.size)
            let path = output ?? file.name
            if path == "-" {
                FileHandle.standardOutput.write(bytes)
                return
            }
            if output == nil, FileManager.default.fileExists(atPath: path) {
                throw ClientError(
                    Words("\(path) exists already: give -o with another path", korean: "\(path)이 이미 있습니다: -o로 다른 경로를 주세요"))
            }
            guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
                throw ClientError(Words("cannot write \(path): check the directory and its permissions", korean: "\(path)에 쓸 수 없습니다: 디렉터리와 권한을 확인하세요"))
            }
            if !options.json {
                FileHandle.standardError.write(Data((Words("saved \(path) (\(byteCount(bytes.count)))", korean: "\(path) 저장함 (\(byteCount(bytes.count)))").text + "\n").utf8))
            }
        }
    }
}
