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


def test_a_sync_client_loads_neither_asyncio_nor_dateutil_nor_redis_nor_attrs() -> None:
    """What a sync client does not need until it parses a model, a date or an async path
    stays off its import path (each costs 15-20 ms)."""
    import subprocess
    import sys

    code = (
        "import sys, overlay; overlay.Client(api_key='k', base_url='https://api.example.com'); "
        "unwanted = ('asyncio', 'dateutil', 'redis', 'attr', 'overlay._shared_limit'); "
        "print(sorted(m for m in unwanted if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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


def test_the_error_tree_drawn_in_the_docstring_is_the_class_tree() -> None:
    """Each exception the package exports is drawn in ``overlay._errors``' tree under its parent."""
    import re

    from overlay import _errors

    drawn: dict[str, str] = {}
    parents: list[tuple[int, str]] = []
    for line in (_errors.__doc__ or "").splitlines():
        found = re.match(r"^(\s*(?:[│ ]   )*(?:[├└]── )?)([A-Z]\w+Error)\b", line)
        if not found:
            continue
        depth, name = len(found.group(1)), found.group(2)
        while parents and parents[-1][0] >= depth:
            parents.pop()
        if parents:
            drawn[name] = parents[-1][1]
        parents.append((depth, name))
    exported = {
        n
        for n in overlay.__all__
        if isinstance(getattr(overlay, n), type) and issubclass(getattr(overlay, n), Exception)
    }
    assert exported - {"CRMError"} <= set(drawn), "exported but not drawn"
    for name, parent in drawn.items():
        cls = getattr(_errors, name, None) or getattr(overlay, name)
        assert cls.__mro__[1].__name__ == parent, (name, parent)
