// jsii's kernel in one Node process, talking to Python on stdin/stdout (see stacks/runtime.py).
//
// The stock runtime (bin/jsii-runtime.js of the `jsii` Python package) is a relay: it starts a
// second node running lib/program.js (the kernel) on fd 3 and pipes every request and response
// through itself. This file runs that same lib/program.js here instead, with two textual edits
// checked to match exactly once: its API channel becomes fd 0 / fd 1 instead of fd 3, and its
// index worker is found under the name the Python package ships it as. What the kernel or the
// libraries write to stdout/stderr goes to Python as the relay sends it: one JSON line per chunk,
// {"stdout"|"stderr": base64}, on stderr, so stdout carries nothing but the protocol.
// The relay starts the kernel with --preserve-symlinks; here it comes through NODE_OPTIONS (set by
// stacks/runtime.py), and is added to process.execArgv, where the kernel looks for it (with it,
// a package the jsii package cache already holds is symlinked into place, not re-linked file by
// file).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const { Writable } = require("node:stream");

const program = process.env.FARGATE_JSII_PROGRAM;
const EDITS = [
  ["readFD:3,writeFD:3", "readFD:0,writeFD:1"],
  ['"runtime-index-worker.js"', '"lib__runtime-index-worker.js"'],
];

if (!(process.env.NODE_OPTIONS ?? "").split(" ").includes("--preserve-symlinks")) {
  throw new Error("NODE_OPTIONS must include --preserve-symlinks (stacks/runtime.py sets it)");
}
process.execArgv.push("--preserve-symlinks");

let source = fs.readFileSync(program, "utf8");
for (const [from, to] of EDITS) {
  if (source.split(from).length !== 2) {
    throw new Error(`${program}: expected exactly one ${from}; set FARGATE_JSII_RELAY=1 to use jsii's own runtime (stacks/runtime.py)`);
  }
  source = source.replace(from, to);
}

function relayed(key) {
  return new Writable({
    write(chunk, _encoding, done) {
      fs.writeSync(2, `${JSON.stringify({ [key]: chunk.toString("base64") })}\n`);
      done();
    },
  });
}
for (const key of ["stdout", "stderr"]) {
  Object.defineProperty(process, key, { value: relayed(key), configurable: true, enumerable: true });
}

const kernel = new Module(program, module);
kernel.filename = program;
kernel.paths = Module._nodeModulePaths(path.dirname(program));
kernel._compile(source, program);
