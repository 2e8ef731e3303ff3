# Sourced by the C# scripts (regen.sh, test.sh, samples/csharp/run.sh, the benchmark): quiet,
# reproducible dotnet invocations that restore without the network when the machine has the
# preinstalled package folder.
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false MSBUILDDISABLENODEREUSE=1
if [ -d /opt/nuget/packages ]; then
  OPENCIM_RESTORE_ARGS="--source /opt/nuget/packages"
else
  OPENCIM_RESTORE_ARGS=""
fi
