package boot

import (
	"flag"
	"fmt"
	"io"
)

// Flags parses the command line of a program configured by Load, which
// takes two flags:
//
//	-config file  the YAML file (default $SMARTDEAL_CONFIG), returned as configPath
//	-keys         list every key of cfg with its environment variable and
//	              default on stderr; done is then true and the program exits
//
// cfg is the configuration struct holding its defaults, as for Load and
// Keys. name names the program in usage messages, which go to stderr. A
// parse error is returned as the flag package gives it (flag.ErrHelp for -h).
func Flags(name string, args []string, cfg any, stderr io.Writer) (configPath string, done bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&configPath, "config", "", "YAML config file (default $"+EnvConfig+")")
	listKeys := fs.Bool("keys", false, "list every config key, its environment variable and default, then exit")
	if err := fs.Parse(args); err != nil {
		return "", false, err
	}
	if !*listKeys {
		return configPath, false, nil
	}
	keys, err := Keys(cfg)
	if err != nil {
		return "", false, err
	}
	for _, k := range keys {
		fmt.Fprintf(stderr, "%-32s %-40s %s\n", k.Key, k.Env, k.Default)
	}
	return "", true, nil
}
