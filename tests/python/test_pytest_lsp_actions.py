"""AI code actions driven by a third-party client: pytest-lsp (pygls + lsprotocol).

lsprotocol parses augur's code actions, the resolved edit and the progress against the LSP 3.18
model. The model is a fake OpenAI-compatible server on 127.0.0.1 that streams a scripted fix.
"""

import http.server
import json
import os
import pathlib
import tempfile
import threading

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("AUGUR_BIN", str(ROOT / "target" / "debug" / "augur"))
os.environ["AUGUR_CONFIG"] = "/nonexistent/augur-test.toml"

SOURCE = "def add(a, b):\n    return a - b\n"
FIXED = "Here is the fix:\n```python\ndef add(a, b):\n    return a + b\n```\n"


class FakeModel(http.server.BaseHTTPRequestHandler):
    """Answers every completion with the fix, streamed as OpenAI server-sent events."""

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in [FIXED[i : i + 16] for i in range(0, len(FIXED), 16)]:
            event = {"choices": [{"text": piece, "index": 0}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        done = {"choices": [{"text": "", "index": 0, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

    def log_message(self, *args):
        pass


MODEL = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
threading.Thread(target=MODEL.serve_forever, daemon=True).start()
WORKSPACE = pathlib.Path(tempfile.mkdtemp(prefix="augur-pytest-actions-"))
(WORKSPACE / "calc.py").write_text(SOURCE)
URI = (WORKSPACE / "calc.py").as_uri()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "serve", "--stdio"]))
async def client(lsp_client: LanguageClient):
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=WORKSPACE.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="ws")],
        initialization_options={
            # pygls's client cannot answer client/registerCapability (the index's file watching).
            "index": {"enabled": False},
            "llm": {"cache": {"enabled": False}},
            "models": {
                "default": {
                    "backend": "openai",
                    "url": f"http://127.0.0.1:{MODEL.server_address[1]}/v1",
                    "model": "fake",
                    "retries": 0,
                }
            },
        },
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_fix_is_offered_then_resolved_into_a_minimal_versioned_edit(client: LanguageClient):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="python", version=1, text=SOURCE
            )
        )
    )
    where = types.Range(start=types.Position(line=1, character=11), end=types.Position(line=1, character=16))
    diagnostic = types.Diagnostic(range=where, message="add subtracts", severity=types.DiagnosticSeverity.Error)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=where,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    fix = next(a for a in actions if isinstance(a, types.CodeAction) and a.title.startswith("Fix"))
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.edit is None, "the model runs only in resolve"
    assert fix.data["version"] == 1
    # The rewrite comes with its `augur.rewrite` command. (lsprotocol reads any code action that
    # has a `command` as a bare Command, so only its title is checked here.)
    assert any(a.title.startswith("Rewrite selection with AI") for a in actions)

    resolved = await client.code_action_resolve_async(fix)
    changes = resolved.edit.document_changes
    assert len(changes) == 1
    edit = changes[0]
    assert isinstance(edit, types.TextDocumentEdit)
    assert edit.text_document.uri == URI
    assert edit.text_document.version == 1
    assert [(e.range, e.new_text) for e in edit.edits] == [
        (types.Range(start=types.Position(line=1, character=13), end=types.Position(line=1, character=14)), "+")
    ]
