package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/safecutover/safecutover/journalflag"
)

// The exit statuses; help prints them.
const (
	exitOK         = 0 // done
	exitError      = 1 // the journal failed, or the cutover ended otherwise than asked
	exitUsage      = 2 // bad command line
	exitRefused    = 3 // refused, by cutoverctl or by the runner; nothing done
	exitNoAnswer   = 4 // no runner answered within -wait
	exitUnfinished = 5 // answered, but the outcome did not come within -wait
	exitNotFound   = 6 // no such cutover
)

// journalEnv names the journal when -journal is not given.
const journalEnv = "SAFECUTOVER_JOURNAL"

// stdio is what a run reads and writes; tests fill it in.
type stdio struct {
	out, err io.Writer
	getenv   func(string) string
	// outTerminal is true when out is a terminal (colours, redrawing).
	outTerminal bool
}

// exitErr is an error with the exit status it calls for.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }

// fail returns an error with exit status code.
func fail(code int, format string, args ...any) error {
	return &exitErr{code: code, err: fmt.Errorf(format, args...)}
}

// usageErr returns a usage error (exit status 2).
func usageErr(format string, args ...any) error { return fail(exitUsage, format, args...) }

// codeOf returns the exit status err calls for.
func codeOf(err error) int {
	if err == nil {
		return exitOK
	}
	if e, ok := errors.AsType[*exitErr](err); ok {
		return e.code
	}
	return exitError
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{out: os.Stdout, err: os.Stderr, getenv: os.Getenv, outTerminal: isTerminal(os.Stdout)})
	stop()
	os.Exit(code)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// command is one subcommand.
type command struct {
	name    string
	args    string // after the name, in the usage line
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{"list", "", "the cutovers in the journal: phase, current stage, whether and until when rollback is possible", runList},
		{"show", "ID [-watch]", "the timeline of a cutover; -watch follows it until it ends", runShow},
		{"approve", "ID -reason TEXT [-as NAME] [-stage STAGE]", "approve the point of no return (or the stage named); waits until the stage is applied", sendCommand},
		{"promote", "ID", "end the current bake now, unless a gate fails; waits until the stage has baked", sendCommand},
		{"pause", "ID", "hold the cutover after the current stage has baked", sendCommand},
		{"resume", "ID", "lift a pause; after a failure past the point of no return, go forward again", sendCommand},
		{"abort", "ID -reason TEXT [-force]", "roll back now; waits until the cutover has rolled back and says where traffic is", sendCommand},
		{"verify", "ID -allowed-signers FILE [-kms-approver \"PRINCIPAL ROLES ARN\"]", "re-verify the signature of every command of a cutover against the approvers: who started and steered it", runVerify},
	}
}

// cli is the state of one run of cutoverctl.
type cli struct {
	io stdio
	// The global flags, which each subcommand takes too.
	journal  string
	endpoint string
	json     bool
	// emitted is set once the JSON output has been printed.
	emitted bool
	// name is the subcommand.
	name string
}

// run runs cutoverctl with args and returns the exit status.
func run(ctx context.Context, args []string, io stdio) int {
	if io.getenv == nil {
		io.getenv = os.Getenv
	}
	c := &cli{io: io}
	err := c.dispatch(ctx, args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := codeOf(err)
	msg := err.Error()
	if code == exitUsage {
		msg += "\n(see cutoverctl help" + strings.TrimSuffix(" "+c.name, " ") + ")"
	}
	if c.json && !c.emitted {
		c.emitJSON(map[string]any{"error": err.Error(), "exit": code})
	}
	fmt.Fprintf(io.err, "cutoverctl: %s\n", msg)
	return code
}

// globalFlags registers the flags every subcommand takes.
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.journal, "journal", c.journal, "the journal: a `DIR`ectory of a file journal, or dynamodb:TABLE (default $"+journalEnv+")")
	fs.StringVar(&c.endpoint, "endpoint", c.endpoint, "DynamoDB endpoint `URL`, for a local server (default: the SDK's, or $AWS_ENDPOINT_URL_DYNAMODB)")
	fs.BoolVar(&c.json, "json", c.json, "print JSON for scripts")
	journalflag.RegisterRetired(fs)
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	top := flag.NewFlagSet("cutoverctl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	c.globalFlags(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(nil)
			return err
		}
		return usageErr("%v", err)
	}
	args = top.Args()
	if len(args) == 0 {
		c.help(nil)
		return usageErr("no command; want one of %s", strings.Join(commandNames(), ", "))
	}
	c.name = args[0]
	if c.name == "help" {
		c.name = ""
		c.help(args[1:])
		return nil
	}
	for _, cmd := range commands() {
		if cmd.name == c.name {
			return cmd.run(ctx, c, args[1:])
		}
	}
	name := c.name
	c.name = ""
	return usageErr("unknown command %q; want one of %s, or help", name, strings.Join(commandNames(), ", "))
}

func commandNames() []string {
	var names []string
	for _, cmd := range commands() {
		names = append(names, cmd.name)
	}
	return names
}

// flagSet returns the flag set of the subcommand, with the global flags.
func (c *cli) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("cutoverctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.globalFlags(fs)
	return fs
}

// parse parses args with fs, allowing flags before and after the
// positional arguments (cutoverctl approve ID -as x); "--" ends the flags.
// It returns the positional arguments.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help([]string{c.name})
				return nil, err
			}
			return nil, usageErr("%s: %v", c.name, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneID returns the cutover ID, the only positional argument.
func (c *cli) oneID(pos []string) (string, error) {
	usage := c.usageLine()
	switch {
	case len(pos) == 0:
		return "", usageErr("%s: missing the cutover ID; usage: %s", c.name, usage)
	case len(pos) > 1:
		return "", usageErr("%s: one cutover ID, got %d arguments (%q); usage: %s", c.name, len(pos), pos, usage)
	case strings.TrimSpace(pos[0]) == "":
		return "", usageErr("%s: the cutover ID is empty; usage: %s", c.name, usage)
	}
	return pos[0], nil
}

func (c *cli) usageLine() string {
	for _, cmd := range commands() {
		if cmd.name == c.name {
			return strings.TrimSpace("cutoverctl " + cmd.name + " " + cmd.args)
		}
	}
	return "cutoverctl COMMAND"
}

// emitJSON prints v as indented JSON.
func (c *cli) emitJSON(v any) {
	enc := json.NewEncoder(c.io.out)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // a broken stdout has nowhere to be reported
}

// printf prints for people (nothing with -json).
func (c *cli) printf(format string, args ...any) {
	if !c.json {
		fmt.Fprintf(c.io.out, format, args...)
	}
}

// durationFlag is a flag.Value for a positive duration whose error says
// what is allowed.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration such as 30s, 2m or 1h30m")
	}
	*f.d = d
	return nil
}

// actorDefault is the OS user, or $USER.
func (c *cli) actorDefault() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return c.io.getenv("USER")
}

// help prints the usage of the subcommand named in args, or of all.
func (c *cli) help(args []string) {
	w := c.io.out
	if c.json {
		w = c.io.err
	}
	if len(args) > 0 && args[0] != "" {
		for _, cmd := range commands() {
			if cmd.name != args[0] {
				continue
			}
			c.name = cmd.name
			fmt.Fprintf(w, "Usage: cutoverctl %s %s\n\n%s.\n\nFlags:\n", cmd.name, cmd.args, upperFirst(cmd.summary))
			fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
			fs.SetOutput(w)
			c.globalFlags(fs)
			registerFlags(fs, cmd.name, &cmdFlags{})
			fs.PrintDefaults()
			fmt.Fprint(w, exitText)
			return
		}
	}
	fmt.Fprint(w, "Usage: cutoverctl [-journal DIR|dynamodb:TABLE] COMMAND [ID] [flags]\n\n"+
		"cutoverctl shows the cutovers in a safecutover journal and steers them: each\n"+
		"command is written to the journal, and the runner driving the cutover (in\n"+
		"another process, on any machine sharing the journal) acts on it at its next\n"+
		"poll and answers; cutoverctl waits for the answer and says what happened.\n\nCommands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "help", "this text; help COMMAND: the flags of COMMAND")
	fmt.Fprint(w, `
The journal is -journal (before or after the command) or $`+journalEnv+`:
a directory of a file journal, or dynamodb:TABLE (the AWS SDK's usual
configuration: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, ...;
-endpoint URL for a local server). Flags may come before or after the ID.
-json prints JSON for scripts instead of text.
`)
	fmt.Fprint(w, exitText)
}

const exitText = `
Exit status:
  0  done: the runner did what was asked (with -no-wait: the command is written)
  1  error: the journal could not be read or written, or the cutover ended
     otherwise than asked (rolled back after an approval, failed, ...)
  2  usage: a bad command line
  3  refused, and nothing was done: by cutoverctl before writing (two-person
     rule, ended cutover, abort past the point of no return without -force)
     or by the runner (its answer says why)
  4  no runner answered within -wait: is one running? The command stays in
     the journal and a runner acts on it when it next drives the cutover
  5  the runner answered, but the outcome did not come within -wait; follow
     it with cutoverctl show ID -watch
  6  no such cutover in the journal
`

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
