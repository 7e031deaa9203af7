package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// withAliases lets cmd and its subcommands take karmadactl's flag names
// (the keys of aliases) for Tether's own (the values): pflag normalizes an
// alias to the name it stands for, so both set the same variable. The help
// of each flag names its aliases. Call it after the subcommands are added.
func withAliases(cmd *cobra.Command, aliases map[string]string) {
	cmd.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			return pflag.NormalizedName(to)
		}
		return pflag.NormalizedName(name)
	})
	byFlag := map[string][]string{}
	for alias, to := range aliases {
		byFlag[to] = append(byFlag[to], "--"+alias)
	}
	for to, names := range byFlag {
		sort.Strings(names)
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags()} {
			if f := fs.Lookup(to); f != nil {
				f.Usage += " Also " + strings.Join(names, ", ") + " (karmadactl's name)."
			}
		}
	}
}
