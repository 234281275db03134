// step-ca (the server) built from Debian 12's golang-github-smallstep-certificates-dev 0.19.0,
// which ships the library but no main package; scripts/install-components.sh builds it with
// GO111MODULE=off GOPATH=/usr/share/gocode. Modelled on upstream's cmd/step-ca/main.go of that
// release, without the cloud KMS/CAS plugins (softkms and softcas, all the lab uses, are
// registered by the library itself) and with urfave/cli's plain help.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/smallstep/certificates/authority"
	"github.com/smallstep/certificates/commands"
	"github.com/urfave/cli"
	"go.step.sm/cli-utils/command"
	"go.step.sm/cli-utils/command/version" // registers `step-ca version`
	"go.step.sm/cli-utils/step"
	"go.step.sm/cli-utils/ui"
	"go.step.sm/crypto/pemutil"
)

// Version is the Debian package's upstream version; install-components.sh checks it.
const Version = "0.19.0"

func init() {
	step.Set("Smallstep CA", Version, "Debian golang-github-smallstep-certificates-dev 0.19.0-1")
	authority.GlobalVersion.Version = Version
	// Encrypted keys without --password-file prompt on the terminal, as upstream does.
	pemutil.PromptPassword = func(msg string) ([]byte, error) {
		return ui.PromptPassword(msg)
	}
}

func main() {
	ui.Init()

	// urfave/cli's plain help: upstream's markdown help printer needs its own templates.
	cli.VersionPrinter = func(c *cli.Context) { _ = version.Command(c) }

	app := cli.NewApp()
	app.Name = "step-ca"
	app.HelpName = "step-ca"
	app.Version = step.Version()
	app.Usage = "an online certificate authority for secure automated certificate management"
	app.UsageText = "step-ca <config> [--password-file=<file>] [--resolver=<addr>] [--help] [--version]"
	app.Flags = append(app.Flags, commands.AppCommand.Flags...)
	app.Flags = append(app.Flags, cli.HelpFlag)
	app.Writer = os.Stdout
	app.ErrWriter = os.Stderr
	// `version`, `export` and `onboard`, registered by the imports' init functions.
	app.Commands = command.Retrieve()

	// As upstream: run the top-level action as the `start` command so that its flags are
	// parsed by commands.AppCommand (Command.Run parses ctx.Args().Tail()).
	app.Action = func(_ *cli.Context) error {
		set := flag.NewFlagSet(app.Name, flag.ContinueOnError)
		_ = set.Parse(os.Args)
		ctx := cli.NewContext(app, set, nil)
		return commands.AppCommand.Run(ctx)
	}

	if err := app.Run(os.Args); err != nil {
		if os.Getenv("STEPDEBUG") == "1" {
			fmt.Fprintf(os.Stderr, "%+v\n", err)
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		ui.Reset()
		os.Exit(1)
	}
	ui.Reset()
}
