// Command breach runs the breach response plan: declare an incident, follow it, decide, file
// and close, run a worker or the whole local stack. main wires commands to packages; the
// commands' own files hold only flag parsing and printing.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/rules"
)

// usageError is bad input on the command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "breach:", err)
	return exitCode(err)
}

// exitCode is 2 for bad input (a usage error, bad facts, a bad configuration), else 1.
func exitCode(err error) int {
	var ue usageError
	var re *rules.UsageError
	var ce config.Problems
	if errors.As(err, &ue) || errors.As(err, &re) || errors.As(err, &ce) || isFlagError(err) {
		return 2
	}
	return 1
}

type flagError struct{ error }

func isFlagError(err error) bool {
	var fe flagError
	return errors.As(err, &fe)
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "breach",
		Short:         "Run the breach response plan on Temporal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("BREACH_CONFIG"), "configuration file (breach.yaml); env BREACH_CONFIG")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError{err} })
	root.AddCommand(
		newDemoCmd(g),
		newDevCmd(g),
		newWorkerCmd(g),
		newDeclareCmd(g),
		newStatusCmd(g),
		newDecideCmd(g),
		newApproveCmd(g),
		newFileCmd(g),
		newCloseCmd(g),
		newReleaseCmd(g),
		newSubjectsCmd(g),
		newDatasetsCmd(g),
		newKeysCmd(g),
		newResolveCmd(g),
		newRetryCmd(g),
		newAmendCmd(g),
		newSupplementCmd(g),
		newDelayCmd(g),
		newObligationsCmd(g),
		newAuthoritiesCmd(g),
		newRegisterCmd(g),
		newDrillCmd(g),
		newServeCmd(g),
		newWebCmd(g),
		newCodecServerCmd(g),
	)
	return root
}
