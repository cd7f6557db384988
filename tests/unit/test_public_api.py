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
