// Package managed runs AWS-managed deployments as cutover stages: a
// CodeDeploy ECS blue/green deployment (CodeDeploy), and an ECS native
// BLUE_GREEN, CANARY or LINEAR deployment (ECS).
//
// The managed service moves the traffic; this package adds what it lacks.
// The library's gates judge while traffic shifts and bake — including the
// sequential judge — and a Fail rolls the deployment back (CodeDeploy's
// StopDeployment with auto-rollback; ECS's ContinueServiceDeployment or
// StopServiceDeployment with ROLLBACK). The deployment's ID is journaled
// with cutover.Remember, so a runner that is killed and started again finds
// it instead of starting a second one. And the moment the original (blue)
// revision goes — the end of CodeDeploy's termination wait, the end of ECS's
// bake time — is a declared point of no return that needs an approval in
// the journal: Plan.Analyze shows it, the runner guards it.
//
// The shortest real use:
//
//	cd, err := managed.NewCodeDeploy(codedeploy.NewFromConfig(cfg), managed.CodeDeploySpec{
//		Application: "shop", DeploymentGroup: "shop-prod",
//		TaskDefinition: taskDefARN, ContainerName: "web", ContainerPort: 8080,
//		DeploymentConfig: "CodeDeployDefault.ECSCanary10Percent5Minutes",
//		Gates: []cutover.Gate{judge},
//	}, managed.Options{})
//	if err != nil { ... }
//	if err := cd.Prepare(ctx); err != nil { ... } // reads the deployment group
//	plan, err := cutover.Sequence("shop 42", cd)
//	runner, err := cutover.NewRunner(journal, cutover.RunnerOptions{})
//	if err != nil { ... }
//	state, err := runner.Run(ctx, "shop-42", plan)
//
// Both types talk to AWS through the narrowest interfaces of the SDK
// methods they call (CodeDeployAPI, ECSDeploymentAPI), which the SDK's clients
// satisfy. Their constructors check the input and make no call; Prepare
// reads the resources they name and refuses, with a *SetupError naming the
// resource, what cannot work: an unknown
// deployment config, a deployment group or service not set up for the
// strategy, missing target groups, a termination wait or bake time too
// short to leave a rollback window.
package managed
