package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/safecutover/safecutover/cutover"
	"github.com/safecutover/safecutover/examples/internal/demo"
	"github.com/safecutover/safecutover/providers/awsprovider/awstest"
	"github.com/safecutover/safecutover/providers/awsprovider/managed"
	"github.com/safecutover/safecutover/providers/fake"
)

func main() {
	ctx, stop := demo.SignalContext(context.Background())
	code := run(ctx, os.Args[1:], demo.IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTerminal: demo.IsTerminal(os.Stdin), OutTerminal: demo.IsTerminal(os.Stdout),
	})
	stop()
	os.Exit(code)
}

// run runs the example with args and returns its exit status.
func run(ctx context.Context, args []string, std demo.IO) int {
	for _, a := range args {
		if a == "-aws" || a == "--aws" {
			return runAWS(ctx, args, std.Out, std.Err)
		}
	}
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--h" || a == "--help" {
			usage(std.Err)
			return demo.ExitCompleted
		}
	}
	kind, rest, err := fakeFlags(args)
	if err == nil && slices.ContainsFunc(rest, func(a string) bool { return strings.HasPrefix(strings.TrimLeft(a, "-"), "journal") }) {
		err = errors.New("-journal: the fake mode's simulated CodeDeploy and ECS live in memory, so a run cannot resume in a new process; the -aws mode journals (see -aws -h)")
	}
	if err != nil {
		fmt.Fprintln(std.Err, "error:", err)
		return demo.ExitError
	}
	return demo.Run(ctx, scenario(kind), rest, std)
}

// usage writes the flags of both modes to w: the example's own, the
// examples' common flags, and those of the -aws mode.
func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  go run ./examples/managed [-ecs [-strategy S]] [flags]   simulated CodeDeploy or ECS, on an accelerated clock
  go run ./examples/managed -aws [flags]                   a real CodeDeploy or ECS deployment, on the real clock

Flags of the simulated mode:
  -ecs
    	an ECS native deployment instead of CodeDeploy
  -strategy S
    	with -ecs: the ECS strategy, canary, linear or bluegreen (default canary)
`)
	demo.ParseFlags(scenario(kind{strategy: "canary"}), []string{"-h"}, w)
	fmt.Fprintln(w, "\nFlags of the -aws mode:")
	parseAWSFlags([]string{"-h"}, w)
}

// kind is what the fake mode deploys.
type kind struct {
	ecs      bool
	strategy string // canary, linear or bluegreen (ECS only)
}

// fakeFlags takes the example's own flags (-ecs, -strategy) out of args;
// the rest are the examples' common flags (see demo.ParseFlags).
func fakeFlags(args []string) (kind, []string, error) {
	k := kind{strategy: "canary"}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		a = strings.TrimPrefix(a, "-")
		switch {
		case a == "ecs":
			k.ecs = true
		case a == "strategy" && i+1 < len(args):
			i++
			k.strategy = args[i]
		case strings.HasPrefix(a, "strategy="):
			k.strategy = strings.TrimPrefix(a, "strategy=")
		default:
			rest = append(rest, args[i])
		}
	}
	if _, err := ecsStrategy(k.strategy); err != nil {
		return k, nil, err
	}
	return k, rest, nil
}

func scenario(k kind) demo.Scenario {
	if k.ecs {
		return demo.Scenario{
			ID:        "managed-ecs",
			Command:   "go run ./examples/managed -ecs -strategy " + k.strategy,
			NoJournal: true,
			Title:     fmt.Sprintf("ECS native %s deployment of web:2, each traffic step judged by the library, the bake approved before it starts", k.strategy),
			Build:     func(env *demo.Env) (cutover.Plan, error) { return buildECS(env, k.strategy) },
		}
	}
	return demo.Scenario{
		ID:        "managed-codedeploy",
		Command:   "go run ./examples/managed",
		NoJournal: true,
		Title:     "CodeDeploy ECS blue/green (canary 10% for 15 minutes) of shop:2, judged by the library, the termination wait approved",
		Build:     buildCodeDeploy,
	}
}

// simEndpoint is a placeholder: requests never leave the process.
const simEndpoint = "http://127.0.0.1:1"

func simOptions(env *demo.Env) managed.Options {
	return managed.Options{Clock: env.Clock, PollInterval: demo.PollInterval}
}

// simulation watches the fake cloud's ALB and returns the gates that
// judge green and the managed deployment services simulated in process
// on the example's clock, whose traffic shifts move the ALB's weights.
func simulation(env *demo.Env) (*fake.Router, demo.Gates, *awstest.Managed, error) {
	alb := env.Cloud.Router("alb", "blue", "green")
	env.Watch = demo.Watch{Router: alb}
	gates, err := demo.NewGates(env)
	if err != nil {
		return nil, demo.Gates{}, nil, err
	}
	sim, err := awstest.NewManaged(awstest.ManagedOptions{Clock: env.Clock})
	if err != nil {
		return nil, demo.Gates{}, nil, err
	}
	return alb, gates, sim, nil
}

func buildCodeDeploy(env *demo.Env) (cutover.Plan, error) {
	alb, gates, sim, err := simulation(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	if err := sim.AddDeploymentGroup(awstest.ManagedGroup{
		Application: "shop", Name: "shop-prod", Service: "shop",
		DeploymentConfig: "CodeDeployDefault.ECSCanary10Percent15Minutes", TerminationWait: time.Hour,
		Router: alb,
	}); err != nil {
		return cutover.Plan{}, err
	}
	client := codedeploy.New(codedeploy.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(simEndpoint), Credentials: aws.AnonymousCredentials{},
		HTTPClient: awstest.InProcessClient(sim),
	})
	cd, err := managed.NewCodeDeploy(client, managed.CodeDeploySpec{
		Application: "shop", DeploymentGroup: "shop-prod",
		TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2",
		ContainerName:  "web", ContainerPort: 8080,
		Gates:       []cutover.Gate{gates.ErrorRate},
		Comparative: []cutover.Gate{gates.Judge},
		Bake:        10 * time.Minute,
	}, simOptions(env))
	if err == nil {
		err = cd.Prepare(context.Background())
	}
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("codedeploy-release", cd)
}

func buildECS(env *demo.Env, strategy string) (cutover.Plan, error) {
	alb, gates, sim, err := simulation(env)
	if err != nil {
		return cutover.Plan{}, err
	}
	if err := sim.AddService(awstest.ManagedService{Cluster: "prod", Name: "web", Router: alb}); err != nil {
		return cutover.Plan{}, err
	}
	client := ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(simEndpoint), Credentials: aws.AnonymousCredentials{},
		HTTPClient: awstest.InProcessClient(sim),
	})
	st, _ := ecsStrategy(strategy)
	e, err := managed.NewECS(client, managed.ECSSpec{
		Cluster: "prod", Service: "web",
		TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2",
		Strategy:       st, CanaryPercent: 10, StepPercent: 25,
		Window:         30 * time.Minute,
		Gates:          []cutover.Gate{gates.ErrorRate},
		Comparative:    []cutover.Gate{gates.Judge},
		Bake:           10 * time.Minute,
		WaitForCleanUp: true,
	}, simOptions(env))
	if err == nil {
		err = e.Prepare(context.Background())
	}
	if err != nil {
		return cutover.Plan{}, err
	}
	return cutover.Sequence("ecs-release", e)
}

// ecsStrategy maps the -strategy flag to an ECS deployment strategy.
func ecsStrategy(s string) (ecstypes.DeploymentStrategy, error) {
	switch strings.ToLower(s) {
	case "canary":
		return managed.Canary, nil
	case "linear":
		return managed.Linear, nil
	case "bluegreen", "blue_green", "blue-green":
		return managed.BlueGreen, nil
	}
	return "", fmt.Errorf("-strategy %q: want canary, linear or bluegreen", s)
}
