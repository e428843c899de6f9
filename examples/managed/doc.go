// Command managed runs a managed deployment — a CodeDeploy ECS blue/green
// deployment, or with -ecs an ECS native CANARY, LINEAR or BLUE_GREEN
// deployment — as a cutover: the managed service shifts the traffic, the
// library's gates judge each step, a failure rolls the deployment back, and
// the moment the original revision goes is a point of no return that needs
// an approval.
//
// By default it runs against the fake cloud: a simulated CodeDeploy and ECS
// (awstest.Managed) that the real AWS SDK clients talk to in-process, moving
// the fake cloud's traffic as the deployment shifts it, on a clock running
// 300 times faster than the wall clock (-speed):
//
//	go run ./examples/managed -approve ci                 # CodeDeploy canary, completes
//	go run ./examples/managed -bad-green -approve ci      # green fails the gates: rolled back
//	go run ./examples/managed -ecs -strategy linear -approve ci
//	go run ./examples/managed                             # stops before the PNR (exit 4)
//
// With -aws it drives real resources, reading credentials and region the
// SDK's usual way and journaling to -journal so that a second run (say
// with -approve) resumes the cutover:
//
//	go run ./examples/managed -aws -application shop -group shop-prod \
//		-task-def arn:aws:ecs:eu-west-1:123456789012:task-definition/shop:42 \
//		-container web -port 8080 -config CodeDeployDefault.ECSCanary10Percent5Minutes \
//		-alarms shop-5xx,shop-latency
//	go run ./examples/managed -aws -ecs -cluster prod -service web -strategy canary \
//		-task-def arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7 -window 30m
//
// Exit status: 0 completed, 3 rolled back, 4 stopped before the point of
// no return waiting for an approval, 1 any other error.
package main
