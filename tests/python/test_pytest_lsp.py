"""augur driven by a third-party client: pytest-lsp (pygls + lsprotocol).

lsprotocol validates every message against the LSP 3.18 model, so a capability shape it cannot
read fails the test. The binary is taken from AUGUR_BIN (default: target/debug/augur). It must be
built with the `test-support` feature for `augur/debug/document` (`cargo test` builds it so;
after a plain `cargo build`, run `cargo build --features test-support`).
"""

import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("AUGUR_BIN", str(ROOT / "target" / "debug" / "augur"))
os.environ["AUGUR_DEBUG_REQUESTS"] = "1"
os.environ["AUGUR_CONFIG"] = "/nonexistent/augur-test.toml"

URI = "file:///tmp/augur-pytest/example.py"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[BIN, "serve", "--stdio"]))
async def client(lsp_client: LanguageClient):
    # pygls's client has no handler for client/registerCapability (used by the workspace index's
    # file watching), so this session runs without the index.
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options={"index": {"enabled": False}},
    )
    result = await lsp_client.initialize_session(params)
    lsp_client.augur_init = result
    yield
    await lsp_client.shutdown_session()


async def document(client: LanguageClient):
    try:
        return await client.protocol.send_request_async("augur/debug/document", {"uri": URI})
    except Exception as error:
        if "not found" in str(error).lower():
            pytest.fail(
                f"{BIN} has no augur/debug/document: build it with the test-support feature "
                "(`cargo test`, or `cargo build --features test-support`)"
            )
        raise


@pytest.mark.asyncio
async def test_initialize_result_parses_as_lsp_3_18(client: LanguageClient):
    result = client.augur_init
    assert result.server_info.name == "augur"
    caps = result.capabilities
    assert caps.position_encoding in ("utf-16", types.PositionEncodingKind.Utf16)
    sync = caps.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close is True


@pytest.mark.asyncio
async def test_open_change_close(client: LanguageClient):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="python", version=1, text="def greet():\n    return '😀'\n"
            )
        )
    )
    # Insert after the emoji: UTF-16 column 14 on line 1 (the emoji counts two).
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=1, character=14),
                        end=types.Position(line=1, character=14),
                    ),
                    text="!",
                )
            ],
        )
    )
    doc = await document(client)
    assert doc.text == "def greet():\n    return '😀!'\n"
    assert doc.version == 2
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    with pytest.raises(Exception):
        await document(client)
