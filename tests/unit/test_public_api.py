"""The overlay's public surface is exactly what ``__all__`` lists."""

import overlay


def test_all_lists_exactly_the_public_names() -> None:
    loaded = {name for name in vars(overlay) if not name.startswith("_")}
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
