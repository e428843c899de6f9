package providers

import "fmt"

// DefaultBlue and DefaultGreen name the two sides of a cutover — what runs
// now and what should run next — when a strategy's options leave them
// empty.
const (
	DefaultBlue  = "blue"
	DefaultGreen = "green"
)

// Sides returns the names of the two sides a strategy's Options.Blue and
// Options.Green give, an empty one replaced by its default, or an error
// when both name one target.
func Sides(blue, green string) (string, string, error) {
	if blue == "" {
		blue = DefaultBlue
	}
	if green == "" {
		green = DefaultGreen
	}
	if blue == green {
		return "", "", fmt.Errorf("Options.Blue and Options.Green are both %q: want two different targets", blue)
	}
	return blue, green, nil
}
