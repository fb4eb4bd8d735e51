// Command parley runs the Parley customer-engagement server. See "parley --help".
package main

import (
	"os"

	"github.com/parley/parley/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
