// Package script runs the Lua scripts of ResourceInterpreterCustomizations
// (ReflectStatus, InterpretHealth, Retain) in a sandbox, with Karmada's
// calling conventions: an object goes in as a Lua table (maps with string
// keys, lists indexed from 1, numbers as Lua numbers, null fields absent)
// and a returned table comes back as JSON values (integral numbers as
// integers, an empty table as {} or [] where the reference objects had one
// at that path, and dropped elsewhere).
//
// It is a pure library: no clients, no I/O. Each script is compiled once
// (Compile) and run on a pool of Lua states (Runner). The sandbox:
//
//   - Libraries: base, table, string and math only; no os, io, package,
//     debug, coroutine or channel. From base, dofile, loadfile, load,
//     loadstring, require, module, collectgarbage, getfenv, setfenv,
//     getmetatable, setmetatable, rawget, rawset, rawequal and newproxy
//     raise an error (Karmada disables the same set), and print does nothing.
//   - Isolation: each call gets fresh globals that read through to the
//     shared ones; the library tables are read-only, so no call can change
//     what the next one sees.
//   - Time: each call runs under a deadline (Limits.Timeout); the VM checks
//     it before every instruction. A call that is still inside a Go library
//     function at the deadline is abandoned (its state is never reused) and
//     the caller gets the timeout at once.
//   - Memory: a watchdog samples the Go heap while calls run and stops them
//     when it grew by more than Limits.Memory over its lowest point since
//     they started and a forced collection confirms it (the rest of the
//     agent's garbage alone never stops a script); library
//     functions that build a string in one step (string.rep, string.format,
//     string.gsub, table.concat) refuse results over MaxString; the value
//     stack and call depth are capped. A single concatenation of existing
//     strings can overshoot the budget by their total size before the next
//     instruction stops it.
//   - A script stopped by a budget is paused for Limits.Pause, so that a
//     runaway script cannot hold every caller for its whole budget.
package script
