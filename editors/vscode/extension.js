// Starts `meshline lsp` for .mesh files. The server does all the work (diagnostics,
// hover, completion, navigation, rename, code actions); this is only the client.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("meshline").get("server.path") || "meshline";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "meshline",
    "Meshline",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "mesh" }, { scheme: "untitled", language: "mesh" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.mesh") },
    }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
