module github.com/opencim/opencim/samples/go

go 1.19

require github.com/opencim/opencim/bindings/go v0.0.0

// In-tree: use the binding next to this sample. A copy outside the repository drops this line
// and requires a released version instead.
replace github.com/opencim/opencim/bindings/go => ../../bindings/go
