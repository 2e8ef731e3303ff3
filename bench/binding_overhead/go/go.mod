module github.com/opencim/opencim/bench/binding_overhead/go

go 1.19

require github.com/opencim/opencim/bindings/go v0.0.0

replace github.com/opencim/opencim/bindings/go => ../../../bindings/go
