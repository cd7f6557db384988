"""The overlay's public surface is exactly what ``__all__`` lists."""

import types

import overlay


def test_all_lists_exactly_the_public_names() -> None:
    # Submodules (overlay.cli, once something imports it) are not names of the package's API.
    loaded = {
        n for n, v in vars(overlay).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    public = loaded | set(overlay._LAZY) | {"__version__"}
    assert sorted(overlay.__all__) == sorted(public)


def test_every_name_in_all_exists() -> None:
    for name in overlay.__all__:
        assert hasattr(overlay, name), name


def test_importing_overlay_does_not_load_the_generated_models() -> None:
    import subprocess
    import sys

    code = "import sys, overlay; print(any(m.startswith('crm_client.models.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_overlay_webhooks_is_reachable_from_overlay_and_lists_its_names() -> None:
    from overlay import webhooks

    assert overlay.webhooks is webhooks
    for name in webhooks.__all__:
        assert hasattr(webhooks, name), name
    public = {
        n for n, v in vars(webhooks).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert sorted(webhooks.__all__) == sorted(public)


def test_importing_overlay_webhooks_does_not_load_httpx_or_the_models() -> None:
    import subprocess
    import sys

    code = (
        "import sys, overlay.webhooks; "
        "print(sorted(m for m in ('httpx', 'crm_client.models') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
