package reliability_test

// controllerChild is one of two controller processes on one cutover.
func controllerChild() (childResult, error) {
	return childResult{}, nil
}
