import Foundation
import PackagePlugin

/// Embeds the `.sql` files under a target's `SQL/` folder in its code (`EmbeddedSQL.files`), so a
/// service carries its migrations and functions in its executable: the Docker image copies only
/// executables. A target with a `Web/` folder (the gateway) gets its templates and assets the same
/// way (`EmbeddedWeb.files`). The build runs again when any of them changes or a new one appears.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        var commands = [try embed(context, target, folder: "SQL", as: "EmbeddedSQL", extensions: ["sql"])]
        if FileManager.default.fileExists(atPath: target.directoryURL.appending(path: "Web").path) {
            commands.append(try embed(context, target, folder: "Web", as: "EmbeddedWeb", extensions: ["mustache", "css", "js", "svg"]))
        }
        return commands
    }

    private func embed(
        _ context: PluginContext, _ target: SourceModuleTarget, folder name: String, as enumName: String, extensions: Set<String>
    ) throws -> Command {
        let folder = target.directoryURL.appending(path: name)
        let files = (FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects as? [URL] ?? [])
            .filter { extensions.contains($0.pathExtension) }
            .sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "\(enumName).swift")
        return .buildCommand(
            displayName: "Embedding \(files.count) files of \(target.name)'s \(name)/",
            executable: try context.tool(named: "EmbedFilesTool").url,
            arguments: [output.path, enumName, folder.path] + files.map(\.path),
            inputFiles: files,
            outputFiles: [output]
        )
    }
}
