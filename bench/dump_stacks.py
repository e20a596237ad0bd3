"""Synthesize every default environment, the bootstrap and the test variants into one directory.

    python bench/dump_stacks.py OUTDIR      # writes OUTDIR/<stack>.json (sorted keys)
    python bench/dump_stacks.py OUTDIR --compare REFDIR

A refactoring that must not change behaviour compares the dump before and after: the
`--compare` form prints every stack whose JSON differs and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def dump(outdir: Path) -> None:
    from stacks import runtime  # noqa: F401  (configures the jsii runtime before cdktf starts it)

    from cdktf import App  # isort: skip

    from envs import load_environments
    from stacks.bootstrap import StateBootstrapStack
    from stacks.platform import PlatformStack
    from tests.variants import VARIANTS

    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as synth_dir:
        app = App(outdir=synth_dir)
        defaults = load_environments()
        for env in (*defaults, *VARIANTS.values()):
            PlatformStack(app, env)
        StateBootstrapStack(app, defaults)
        app.synth()
        for stack_dir in sorted((Path(synth_dir) / "stacks").iterdir()):
            text = (stack_dir / "cdk.tf.json").read_text()
            (outdir / f"{stack_dir.name}.json").write_text(text)


def compare(outdir: Path, refdir: Path) -> int:
    differing = []
    names = sorted(
        {p.name for p in outdir.glob("*.json")} | {p.name for p in refdir.glob("*.json")}
    )
    for name in names:
        new, old = outdir / name, refdir / name
        if not new.exists() or not old.exists() or new.read_bytes() != old.read_bytes():
            differing.append(name)
    for name in differing:
        print(f"differs: {name}")
    print(f"{len(names) - len(differing)}/{len(names)} stacks byte-identical")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--compare", type=Path, metavar="REFDIR")
    args = parser.parse_args()
    dump(args.outdir)
    return compare(args.outdir, args.compare) if args.compare else 0


if __name__ == "__main__":
    raise SystemExit(main())
