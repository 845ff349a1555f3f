package bench

import (
	"fmt"
	"math"
)

// Int returns the integer parameter name, or an error naming it when it is
// missing or not a whole number.
func (s *Spec) Int(name string) (int, error) {
	v, ok := s.Params[name]
	if !ok {
		return 0, fmt.Errorf("spec: parameter %q missing", name)
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("spec: parameter %q = %v is not an integer", name, x)
		}
		return int(x), nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	}
	return 0, fmt.Errorf("spec: parameter %q has type %T, want number", name, v)
}

// Float returns the number parameter name.
func (s *Spec) Float(name string) (float64, error) {
	v, ok := s.Params[name]
	if !ok {
		return 0, fmt.Errorf("spec: parameter %q missing", name)
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("spec: parameter %q has type %T, want number", name, v)
}

// String returns the string parameter name.
func (s *Spec) String(name string) (string, error) {
	v, ok := s.Params[name]
	if !ok {
		return "", fmt.Errorf("spec: parameter %q missing", name)
	}
	x, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("spec: parameter %q has type %T, want string", name, v)
	}
	return x, nil
}

// Input returns the path of the named input file.
func (s *Spec) Input(name string) (string, error) {
	p, ok := s.Inputs[name]
	if !ok || p == "" {
		return "", fmt.Errorf("spec: input %q missing", name)
	}
	return p, nil
}
