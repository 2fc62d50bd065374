package sandbox

import "fmt"

// Shape selects how a response body is laid out.
type Shape string

// Shapes.
const (
	// ShapeFlat is the real, flat body (the default).
	ShapeFlat Shape = "flat"
	// ShapeData wraps the body in {"data":[…]}, as Meta's guide documents
	// it, with string user_id and comma-separated permissions, to keep
	// tolerant parsers honest.
	ShapeData Shape = "data"
)

// ResponseShapes chooses the body layout of the two endpoints whose
// documented shape differs from the real one.
type ResponseShapes struct {
	// CodeExchange is the shape of POST /oauth/access_token; empty means flat.
	CodeExchange Shape `json:"code_exchange,omitempty"`
	// Profile is the shape of /me; empty means flat.
	Profile Shape `json:"profile,omitempty"`
}

// SetResponseShapes switches the code exchange and /me between the flat and
// the data[] shapes.
func (s *Sandbox) SetResponseShapes(rs ResponseShapes) error {
	for _, sh := range []Shape{rs.CodeExchange, rs.Profile} {
		if sh != "" && sh != ShapeFlat && sh != ShapeData {
			return fmt.Errorf("unknown shape %q (want %s or %s)", sh, ShapeFlat, ShapeData)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shapes = rs
	return nil
}

// CurrentResponseShapes returns the shapes in effect.
func (s *Sandbox) CurrentResponseShapes() ResponseShapes {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.shapes
	if rs.CodeExchange == "" {
		rs.CodeExchange = ShapeFlat
	}
	if rs.Profile == "" {
		rs.Profile = ShapeFlat
	}
	return rs
}
