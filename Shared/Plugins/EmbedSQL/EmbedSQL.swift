import Foundation
import PackagePlugin

/// Embeds the `.sql` files under a target's `SQL/` folder in its code (`EmbeddedSQL.files`), so a
/// service carries its migrations and functions in its executable: the Docker image copies only
/// executables. The build runs again when any of them changes or a new one appears.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "SQL")
        let files = (FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? [])
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL files of \(target.name)",
                executable: try context.tool(named: "EmbedSQLTool").url,
                arguments: [output.path, folder.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
