"""Constructs, one per concern. Provider classes come only through `modules.aws`."""

import os
from urllib.parse import quote

# jsii's Node runtime prints a 12-line banner on every run under Node 20 (end of life for jsii
# since 2026-10-30). cdktf 0.21 is frozen and runs fine on it; keep synth and test output clean.
# Must be set before the first `import cdktf` starts the runtime; `stacks` imports us first.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

# Node-side memory. When jsii loads an assembly, its kernel `require()`s the package's main file;
# for @cdktf/provider-aws that is lib/index.js, which eagerly requires all 2,212 resource
# modules (224 MB of JS, all kept live: ~620 MiB RSS in the jsii node child, whatever Python
# imports). This preload (run in jsii's node processes through NODE_OPTIONS, as an inline
# `data:` module, so no extra file) turns such a main file into lazy getters: a submodule is
# required the first time the kernel looks a type up in it (`closure[namespace][Type]`).
# It applies only to an absolute-path `require` of a `lib/index.js` made of nothing but
# `exports.x = require("./y");` lines (>= 100 of them); any other file loads unchanged, and
# touching every namespace costs the same as the eager load (checked: all 2,212 resolve).
# --max-semi-space-size=1 (MiB) caps V8's young generation: ~-25 MiB, no cap on total heap
# (jsii passes --max-old-space-size=4069 on node's argv, which beats NODE_OPTIONS anyway).
# Synth output is byte-identical. Measured (Node 20, 2 cores, `make bench`, whole process tree):
# make synth 739 -> 274 MiB peak RSS, 5.4 -> 2.8 s (0.597x -> 0.221x of the naive path); the
# naive path is unchanged (1240 MiB: it starts jsii before `main` imports us); with this
# NODE_OPTIONS forced on it too: 777 MiB, ratio 0.355x. Semi-space alone: only -34 MiB. At
# 150x the environments (451 stacks): 822 -> 347 MiB. Only runtimes started after this runs.
_LAZY_PROVIDER_INDEX = r"""
import Module from "node:module";
import { readFileSync } from "node:fs";
import { isAbsolute, sep } from "node:path";
const EXPORT = /^exports\.([\w$]+) = require\("(\.\/[\w.\/-]+)"\);$/;
const INERT = [
  /^$/,
  /^"use strict";$/,
  /^(\/\/|\/\*|\*)/,
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^exports\.[\w$]+( = exports\.[\w$]+)* = void 0;$/,
];
const MAIN = `${sep}lib${sep}index.js`;
const load = Module.prototype.require;
function lazyIndex(file, parent) {
  const req = Module.createRequire(file);
  if (req.cache[file]) return req.cache[file].exports;
  const entries = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = EXPORT.exec(line.trim());
    if (m) entries.push(m);
    else if (!INERT.some((inert) => inert.test(line.trim()))) return undefined;
  }
  if (entries.length < 100) return undefined;
  const mod = new Module(file, parent);
  mod.filename = file;
  mod.loaded = true;
  Object.defineProperty(mod.exports, "__esModule", { value: true });
  for (const [, name, rel] of entries) {
    Object.defineProperty(mod.exports, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = req(rel);
        const own = { value, enumerable: true, writable: true, configurable: true };
        Object.defineProperty(mod.exports, name, own);
        return value;
      },
    });
  }
  req.cache[file] = mod;
  return mod.exports;
}
Module.prototype.require = function require(id) {
  if (typeof id === "string" && isAbsolute(id) && id.endsWith(MAIN)) {
    const lazy = lazyIndex(id, this);
    if (lazy !== undefined) return lazy;
  }
  return load.call(this, id);
};
"""
_NODE_OPTIONS = "--max-semi-space-size=1 --import=data:text/javascript," + quote(
    _LAZY_PROVIDER_INDEX, safe=""
)
# Appended (not setdefault) so a NODE_OPTIONS set by the user keeps its flags and still gets ours.
if _NODE_OPTIONS not in os.environ.get("NODE_OPTIONS", ""):
    os.environ["NODE_OPTIONS"] = f"{os.environ.get('NODE_OPTIONS', '')} {_NODE_OPTIONS}".strip()
