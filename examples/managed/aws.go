package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/health"
	"github.com/safecutover/safecutover/journalflag"
	"github.com/safecutover/safecutover/providers/awsprovider"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
)

// awsFlags are the flags of the -aws mode.
type awsFlags struct {
	ecs                bool
	id, journal        string
	approve            string
	alarms             string
	bake, poll         time.Duration
	taskDef            string
	app, group         string
	container          string
	port               int
	config             string
	terminateEarly     bool
	cluster, service   string
	strategy           string
	canaryPct, stepPct float64
	window             time.Duration
	waitCleanUp        bool
}

func parseAWSFlags(args []string, stderr io.Writer) (awsFlags, error) {
	var f awsFlags
	fs := flag.NewFlagSet("managed -aws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("aws", true, "drive real AWS resources (credentials and region the SDK's usual way)")
	fs.BoolVar(&f.ecs, "ecs", false, "an ECS native deployment instead of CodeDeploy")
	fs.StringVar(&f.id, "id", "", "cutover `ID` in the journal (default: from the task definition)")
	journalflag.Register(fs, &f.journal, ".safecutover") // a second run with the same flags resumes the cutover
	fs.StringVar(&f.approve, "approve", "", "approve crossing the point of no return as `NAME`")
	fs.StringVar(&f.alarms, "alarms", "", "comma-separated CloudWatch alarm `NAMES` judged as a gate at every stage")
	fs.DurationVar(&f.bake, "bake", 10*time.Minute, "how long the gates judge each step and the rollback window")
	fs.DurationVar(&f.poll, "poll", 15*time.Second, "poll interval of the runner and of the deployment")
	fs.StringVar(&f.taskDef, "task-def", "", "task definition `ARN` to deploy (required)")
	fs.StringVar(&f.app, "application", "", "CodeDeploy application (required for CodeDeploy)")
	fs.StringVar(&f.group, "group", "", "CodeDeploy deployment group (required for CodeDeploy)")
	fs.StringVar(&f.container, "container", "", "container the load balancer sends traffic to (required for CodeDeploy)")
	fs.IntVar(&f.port, "port", 0, "its port (required for CodeDeploy)")
	fs.StringVar(&f.config, "config", "", "CodeDeploy deployment config (default: the group's)")
	fs.BoolVar(&f.terminateEarly, "terminate-early", false, "CodeDeploy: end the termination wait once approved instead of letting it run out")
	fs.StringVar(&f.cluster, "cluster", "", "ECS cluster (default: the default cluster)")
	fs.StringVar(&f.service, "service", "", "ECS service (required with -ecs)")
	fs.StringVar(&f.strategy, "strategy", "canary", "ECS strategy: canary, linear or bluegreen")
	fs.Float64Var(&f.canaryPct, "canary-percent", 10, "ECS canary share, percent")
	fs.Float64Var(&f.stepPct, "step-percent", 25, "ECS linear step, percent")
	fs.DurationVar(&f.window, "window", 30*time.Minute, "the rollback window: how long ECS keeps the old revision after the last shift (its bake time)")
	fs.BoolVar(&f.waitCleanUp, "wait-cleanup", false, "ECS: complete only once ECS has cleaned up the old revision")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if _, err := journalflag.Parse(f.journal, journalflag.Options{}); err != nil {
		return f, err
	}
	port := ""
	if f.port != 0 {
		port = strconv.Itoa(f.port)
	}
	need := [][2]string{{"-task-def", f.taskDef}}
	if f.ecs {
		need = append(need, [2]string{"-service", f.service})
	} else {
		need = append(need, [2]string{"-application", f.app}, [2]string{"-group", f.group},
			[2]string{"-container", f.container}, [2]string{"-port", port})
	}
	for _, n := range need {
		if n[1] == "" {
			return f, fmt.Errorf("%s is required in -aws mode; see -h", n[0])
		}
	}
	if f.id == "" {
		f.id = "managed-" + regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(f.taskDef[strings.LastIndex(f.taskDef, "/")+1:], "-")
	}
	return f, nil
}

// runAWS drives a real deployment and returns the exit status.
func runAWS(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseAWSFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return demo.ExitCompleted
	}
	if err == nil {
		var code int
		if code, err = driveAWS(ctx, f, stdout); err == nil || code != demo.ExitError {
			return code
		}
	}
	fmt.Fprintln(stderr, "error:", err)
	return demo.ExitError
}

func driveAWS(ctx context.Context, f awsFlags, out io.Writer) (int, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return demo.ExitError, err
	}
	var gates []cutover.Gate
	if f.alarms != "" {
		src, err := awsprovider.NewAlarmSource(cloudwatch.NewFromConfig(cfg), awsprovider.AlarmSourceOptions{})
		if err != nil {
			return demo.ExitError, err
		}
		g, err := health.NewAlarm(src, strings.Split(f.alarms, ","), health.AlarmOptions{})
		if err != nil {
			return demo.ExitError, err
		}
		gates = append(gates, g)
	}
	opts := managed.Options{PollInterval: f.poll}
	var strategy cutover.Strategy
	if f.ecs {
		st, err := ecsStrategy(f.strategy)
		if err != nil {
			return demo.ExitError, err
		}
		e, err := managed.NewECS(ecs.NewFromConfig(cfg), managed.ECSSpec{
			Cluster: f.cluster, Service: f.service, TaskDefinition: f.taskDef,
			Strategy: st, CanaryPercent: f.canaryPct, StepPercent: f.stepPct, Window: f.window,
			Gates: gates, Bake: f.bake, WaitForCleanUp: f.waitCleanUp,
		}, opts)
		if err == nil {
			err = e.Prepare(ctx)
		}
		if err != nil {
			return demo.ExitError, err
		}
		strategy = e
	} else {
		cd, err := managed.NewCodeDeploy(codedeploy.NewFromConfig(cfg), managed.CodeDeploySpec{
			Application: f.app, DeploymentGroup: f.group, TaskDefinition: f.taskDef,
			ContainerName: f.container, ContainerPort: f.port, DeploymentConfig: f.config,
			Gates: gates, Bake: f.bake, TerminateEarly: f.terminateEarly,
			Services: ecs.NewFromConfig(cfg),
		}, opts)
		if err == nil {
			err = cd.Prepare(ctx)
		}
		if err != nil {
			return demo.ExitError, err
		}
		strategy = cd
	}
	plan, err := cutover.Sequence(f.id, strategy)
	if err != nil {
		return demo.ExitError, err
	}
	an := plan.Analyze()
	fmt.Fprintf(out, "cutover %s: %d stages; point of no return: %q\n", f.id, len(plan.Stages), an.PNRStage)
	for _, s := range plan.Stages {
		fmt.Fprintf(out, "  %-32s %s\n", s.Name, s.Reversibility)
	}
	for _, fd := range an.Findings {
		fmt.Fprintf(out, "  note: %s\n", fd.Message)
	}

	store, err := journalflag.Open(ctx, f.journal, journalflag.Options{})
	if err != nil {
		return demo.ExitError, err
	}
	j := store.Journal
	lease, err := store.Lease(nil)
	if err != nil {
		return demo.ExitError, err
	}
	actor := "managed-example"
	if u, err := user.Current(); err == nil && u.Username != "" {
		actor = u.Username
	}
	approve := func() error {
		return cutover.Send(ctx, j, f.id, cutover.CmdApprove, f.approve, "approved with -approve", "")
	}
	// -approve is sent only at the approval point: where Run stops before
	// a stage that needs one, or waits with the termination wait open.
	var obs cutover.Observer = printer{out}
	var sends sync.WaitGroup
	defer sends.Wait()
	if f.approve != "" {
		obs = demo.ApproveAtWindow(obs, plan, &sends, func(stage string) {
			_ = cutover.Send(context.WithoutCancel(ctx), j, f.id, cutover.CmdApprove, f.approve, "approved with -approve", stage)
		})
	}
	r, err := cutover.NewRunner(j, cutover.RunnerOptions{
		Observer: obs, PollInterval: f.poll, Actor: actor, Lease: lease,
	})
	if err != nil {
		return demo.ExitError, err // -poll out of range, named
	}
	_, err = r.Run(ctx, f.id, plan)
	if errors.Is(err, cutover.ErrPNRNotApproved) && !errors.Is(err, cutover.ErrRolledBack) && f.approve != "" {
		if err := approve(); err != nil {
			return demo.ExitError, err
		}
		_, err = r.Run(ctx, f.id, plan)
	}
	code := demo.ExitCode(err)
	switch code {
	case demo.ExitCompleted:
		fmt.Fprintln(out, "completed")
	case demo.ExitRolledBack:
		fmt.Fprintln(out, "rolled back:", err)
	case demo.ExitWaiting:
		fmt.Fprintf(out, "waiting for an approval of %q: run again with -approve NAME\n", an.PNRStage)
	default:
		return code, err
	}
	return code, nil
}

// printer prints the runner's events, one line each.
type printer struct{ w io.Writer }

func (p printer) Observe(e cutover.Event) {
	if e.Type == cutover.EvGateJudged {
		return
	}
	line := e.Time.Format("15:04:05") + " " + string(e.Type)
	if e.Stage != "" {
		line += " [" + e.Stage + "]"
	}
	if e.Message != "" {
		line += " " + e.Message
	}
	if e.Err != nil {
		line += ": " + e.Err.Error()
	}
	fmt.Fprintln(p.w, line)
}
