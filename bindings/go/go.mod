module github.com/opencim/opencim/bindings/go

go 1.19
