package agent

import (
	"fmt"
	"slices"

	"github.com/spf13/pflag"
)

// ignoredFlag is a karmada-agent flag whose job Tether does differently or
// not at all. It is accepted, so that karmada-agent's Deployment runs
// Tether unchanged, and named in one warning at start.
type ignoredFlag struct {
	name string
	// bool flags may be given without a value (--logtostderr).
	bool bool
}

// ignoredFlags are karmada-agent's flags (its own, component-base's
// logging flags and klog's) that Tether does not use.
var ignoredFlags = []ignoredFlag{
	// Resource modelling.
	{name: "enable-cluster-resource-modeling", bool: true},
	// Informer resync and work-queue tuning: Tether's queues and informers have their own.
	{name: "resync-period"}, {name: "concurrent-cluster-syncs"},
	{name: "rate-limiter-base-delay"}, {name: "rate-limiter-max-delay"}, {name: "rate-limiter-qps"}, {name: "rate-limiter-bucket-size"},
	{name: "feature-gates"},
	// Tether names its leader-election Lease karmada-agent-<cluster>, as karmada-agent does.
	{name: "leader-elect-resource-name"},
	// Tether's own retired deletion fence (a delete rate cap); the bulk-deletion guard replaced it.
	{name: "member-delete-rate"},
	// component-base logging: Tether logs through zap (--log-format, -v).
	{name: "log-flush-frequency"}, {name: "vmodule"},
	{name: "log-text-split-stream", bool: true}, {name: "log-text-info-buffer-size"},
	{name: "log-json-split-stream", bool: true}, {name: "log-json-info-buffer-size"},
	// klog's flags.
	{name: "add_dir_header", bool: true}, {name: "alsologtostderr", bool: true}, {name: "alsologtostderrthreshold"},
	{name: "legacy_stderr_threshold_behavior", bool: true}, {name: "log_backtrace_at"},
	{name: "log_dir"}, {name: "log_file"}, {name: "log_file_max_size"}, {name: "logtostderr", bool: true},
	{name: "one_output", bool: true}, {name: "skip_headers", bool: true}, {name: "skip_log_headers", bool: true},
	{name: "stderrthreshold"},
}

// addCompatFlags registers karmada-agent's flags that Tether has no
// setting of its own for: --logging-format sets --log-format, the others
// are accepted and ignored.
func (o *Options) addCompatFlags(fs *pflag.FlagSet) {
	fs.Var(loggingFormat{&o.LogFormat}, "logging-format", "karmada-agent's name for --log-format: text (Tether's console format) or json.")
	for _, f := range ignoredFlags {
		if fs.Lookup(f.name) != nil {
			continue
		}
		const usage = "Accepted for compatibility with karmada-agent; Tether ignores it."
		if f.bool {
			fs.Bool(f.name, false, usage)
		} else {
			fs.String(f.name, "", usage)
		}
		_ = fs.MarkHidden(f.name)
		o.ignored = append(o.ignored, f.name)
	}
}

// IgnoredSet names what was given on the command line and has no effect in
// Tether: karmada-agent flags it does not use, and karmada-agent
// controllers it does not have that --controllers names. Each appears once.
func (o *Options) IgnoredSet(fs *pflag.FlagSet) []string {
	var out []string
	for _, name := range o.ignored {
		if f := fs.Lookup(name); f != nil && f.Changed {
			out = append(out, "--"+name)
		}
	}
	for _, c := range absentControllers {
		if slices.Contains(o.Controllers, c) {
			out = append(out, "--controllers="+c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// loggingFormat is --logging-format, component-base's log format flag:
// "text" is Tether's console format.
type loggingFormat struct{ format *string }

func (l loggingFormat) String() string {
	if l.format == nil {
		return ""
	}
	if *l.format == "console" {
		return "text"
	}
	return *l.format
}

func (l loggingFormat) Set(v string) error {
	switch v {
	case "text":
		*l.format = "console"
	case "json":
		*l.format = "json"
	default:
		return fmt.Errorf("%q is not a log format: text or json", v)
	}
	return nil
}

func (l loggingFormat) Type() string { return "string" }
