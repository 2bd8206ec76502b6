; Inno Setup script of the Laser Trim Analyzer Edge station agent for Windows.
;
; Installs the one-folder app (make build / build\lta-agent.spec) to Program
; Files, keeps config and data in ProgramData\LaserTrimAnalyzer\agent, and
; registers the service through WinSW (started with the machine, restarted
; after a crash). docs/install.md is the guide for IT.
;
; Built by .github/workflows/windows.yml:
;   iscc /DAppVersion=0.1.0 /DAppDir=build\out\lta-agent /DWinSW=build\out\WinSW-x64.exe
;        /Obuild\out installer\windows\lta-agent.iss
;
; Silent install (each parameter optional; they fill the config on the first
; install only, an upgrade keeps the existing config):
;   lta-agent-setup-0.1.0.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;       /CENTRALURL=https://lta.example.com /TOKEN=<station token> /INBOX=D:\TrimResults
;       [/STATIONID=trim-07] [/BIND=0.0.0.0:8710]
; Silent uninstall, data kept (add /PURGE to delete config and data too):
;   "C:\Program Files\Laser Trim Analyzer\agent\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<version> (lta-agent.exe --version prints it)
#endif
#ifndef AppDir
  #define AppDir "..\..\build\out\lta-agent"
#endif
#ifndef WinSW
  #define WinSW "..\..\build\out\WinSW-x64.exe"
#endif

#define ServiceId "lta-agent"
#define FirewallRule "Laser Trim Analyzer agent"

[Setup]
AppId={{FEC9ED1F-F883-4B1C-839E-531CF34EB9E5}
AppName=Laser Trim Analyzer agent
AppVersion={#AppVersion}
AppVerName=Laser Trim Analyzer agent {#AppVersion}
AppPublisher=Laser Trim Analyzer Edge team
DefaultDirName={autopf}\Laser Trim Analyzer\agent
DisableDirPage=auto
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=lta-agent-setup-{#AppVersion}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=no
SetupLogging=yes
UninstallDisplayName=Laser Trim Analyzer agent

[InstallDelete]
; An upgrade replaces the app's libraries whole, so nothing of the old version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#AppDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#WinSW}"; DestDir: "{app}"; DestName: "lta-agent-service.exe"; Flags: ignoreversion
Source: "lta-agent-service.xml"; DestDir: "{app}"; Flags: ignoreversion

[Dirs]
; Config, store, outbox, logs and kernel cache: never removed by the uninstaller.
Name: "{commonappdata}\LaserTrimAnalyzer\agent"; Flags: uninsneveruninstall
Name: "{commonappdata}\LaserTrimAnalyzer\agent\logs"; Flags: uninsneveruninstall
Name: "{commonappdata}\LaserTrimAnalyzer\agent\kernel-cache"; Flags: uninsneveruninstall

[Run]
Filename: "{app}\lta-agent-service.exe"; Parameters: "install"; \
  Flags: runhidden waituntilterminated; StatusMsg: "Registering the service..."; \
  Check: not ServiceExists
Filename: "{sys}\netsh.exe"; \
  Parameters: "advfirewall firewall add rule name=""{#FirewallRule}"" dir=in action=allow protocol=TCP localport={code:PagePort} program=""{app}\lta-agent.exe"""; \
  Flags: runhidden waituntilterminated; StatusMsg: "Opening the page's port..."; \
  Check: NeedsFirewallRule
Filename: "{app}\lta-agent-service.exe"; Parameters: "start"; \
  Flags: runhidden waituntilterminated; StatusMsg: "Starting the service..."

[UninstallRun]
Filename: "{app}\lta-agent-service.exe"; Parameters: "stop"; \
  Flags: runhidden waituntilterminated; RunOnceId: "StopService"
Filename: "{app}\lta-agent-service.exe"; Parameters: "uninstall"; \
  Flags: runhidden waituntilterminated; RunOnceId: "DeleteService"
Filename: "{sys}\netsh.exe"; \
  Parameters: "advfirewall firewall delete rule name=""{#FirewallRule}"""; \
  Flags: runhidden waituntilterminated; RunOnceId: "DeleteFirewallRule"

[Code]
var
  FirewallWanted: Boolean;

function DataDir(): String;
begin
  Result := ExpandConstant('{commonappdata}\LaserTrimAnalyzer\agent');
end;

function ConfigFile(): String;
begin
  Result := DataDir() + '\agent.toml';
end;

function Param(Name: String): String;
begin
  Result := Trim(ExpandConstant('{param:' + Name + '|}'));
end;

function ServiceExists(): Boolean;
begin
  Result := RegKeyExists(HKLM, 'SYSTEM\CurrentControlSet\Services\{#ServiceId}');
end;

{ The page's port from /BIND=host:port; 8710 when not given. }
function PagePort(Value: String): String;
var
  Bind: String;
  I: Integer;
begin
  Bind := Param('BIND');
  Result := '8710';
  for I := Length(Bind) downto 1 do
    if Bind[I] = ':' then
    begin
      Result := Copy(Bind, I + 1, Length(Bind) - I);
      Exit;
    end;
end;

{ A rule is needed only when /BIND serves the page beyond this PC. }
function NeedsFirewallRule(): Boolean;
begin
  Result := FirewallWanted;
end;

function IsLoopback(Bind: String): Boolean;
begin
  Result := (Bind = '') or (Pos('127.0.0.1:', Bind) = 1) or (Pos('localhost:', Bind) = 1)
    or (Pos('[::1]:', Bind) = 1);
end;

{ The values go into the config as TOML literal strings ('...'), which cannot hold a quote. }
function HasNoQuote(Name: String): Boolean;
begin
  Result := Pos('''', Param(Name)) = 0;
  if not Result then
    SuppressibleMsgBox('/' + Name + '= must not contain a quote character.',
      mbCriticalError, MB_OK, IDOK);
end;

function InitializeSetup(): Boolean;
begin
  Result := HasNoQuote('CENTRALURL') and HasNoQuote('TOKEN') and HasNoQuote('INBOX')
    and HasNoQuote('STATIONID') and HasNoQuote('BIND');
  FirewallWanted := not IsLoopback(Param('BIND'));
end;

{ Stop the running service before its files are replaced (upgrade in place). }
function PrepareToInstall(var NeedsRestart: Boolean): String;
var
  I, Code: Integer;
begin
  Result := '';
  if not ServiceExists() then
    Exit;
  Log('Stopping the service for the upgrade');
  Exec(ExpandConstant('{sys}\sc.exe'), 'stop {#ServiceId}', '', SW_HIDE,
    ewWaitUntilTerminated, Code);
  { WinSW gives the agent up to 60 s to finish the file in hand. }
  for I := 1 to 70 do
  begin
    if not Exec(ExpandConstant('{cmd}'), '/c sc query {#ServiceId} | find "STOPPED" >nul', '',
      SW_HIDE, ewWaitUntilTerminated, Code) then
      Break;
    if Code = 0 then
      Break;
    Sleep(1000);
  end;
end;

{ Insert "Line" right below the "[Section]" header of the config. }
procedure SetKey(var Lines: TArrayOfString; Section, Line: String);
var
  I, J: Integer;
begin
  for I := 0 to GetArrayLength(Lines) - 1 do
    if Trim(Lines[I]) = '[' + Section + ']' then
    begin
      SetArrayLength(Lines, GetArrayLength(Lines) + 1);
      for J := GetArrayLength(Lines) - 1 downto I + 2 do
        Lines[J] := Lines[J - 1];
      Lines[I + 1] := Line;
      Exit;
    end;
end;

{ First install: the commented default config with the values given on the command line. }
procedure WriteConfig();
var
  Lines: TArrayOfString;
  ResultCode: Integer;
begin
  if FileExists(ConfigFile()) then
  begin
    Log('Keeping the existing config ' + ConfigFile());
    Exit;
  end;
  if not Exec(ExpandConstant('{app}\lta-agent.exe'), 'init-config "' + ConfigFile() + '"', '',
    SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    RaiseException('lta-agent init-config failed (exit code ' + IntToStr(ResultCode) + ')');
  if not LoadStringsFromFile(ConfigFile(), Lines) then
    RaiseException('Cannot read ' + ConfigFile());
  if Param('INBOX') <> '' then
    SetKey(Lines, 'inbox', 'paths = [''' + Param('INBOX') + ''']');
  if Param('STATIONID') <> '' then
    SetKey(Lines, 'station', 'id = ''' + Param('STATIONID') + '''');
  if Param('BIND') <> '' then
    SetKey(Lines, 'web', 'bind = ''' + Param('BIND') + '''');
  if Param('CENTRALURL') <> '' then
    SetKey(Lines, 'central', 'url = ''' + Param('CENTRALURL') + '''');
  if Param('TOKEN') <> '' then
    SetKey(Lines, 'central', 'token = ''' + Param('TOKEN') + '''');
  if not SaveStringsToUTF8File(ConfigFile(), Lines, False) then
    RaiseException('Cannot write ' + ConfigFile());
  Log('Wrote ' + ConfigFile());
end;

{ The config may hold the station token: SYSTEM (the service) and Administrators only. }
procedure ProtectConfig();
var
  ResultCode: Integer;
begin
  Exec(ExpandConstant('{sys}\icacls.exe'),
    '"' + ConfigFile() + '" /inheritance:r /grant:r *S-1-5-18:(F) *S-1-5-32-544:(F)', '',
    SW_HIDE, ewWaitUntilTerminated, ResultCode);
  if ResultCode <> 0 then
    Log('icacls on the config returned ' + IntToStr(ResultCode));
end;

{ The service (SYSTEM) loads compiled kernels from here, and numba's index is a pickle:
  whoever can write this folder runs code as SYSTEM. ProgramData lets every user create
  files below it, so inheritance is cut: SYSTEM and Administrators only (docs/security.md). }
procedure ProtectKernelCache();
var
  ResultCode: Integer;
begin
  Exec(ExpandConstant('{sys}\icacls.exe'),
    '"' + ExpandConstant('{commonappdata}\LaserTrimAnalyzer\agent\kernel-cache') +
    '" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)(F) *S-1-5-32-544:(OI)(CI)(F) /T /C', '',
    SW_HIDE, ewWaitUntilTerminated, ResultCode);
  if ResultCode <> 0 then
    Log('icacls on the kernel cache returned ' + IntToStr(ResultCode));
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then
  begin
    WriteConfig();
    ProtectConfig();
    ProtectKernelCache();
  end;
end;

function CommandLineHas(Switch: String): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), Switch) = 0 then
      Result := True;
end;

{ Data and config stay unless the uninstaller is run with /PURGE. }
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and CommandLineHas('/PURGE') then
  begin
    Log('/PURGE: deleting ' + DataDir());
    DelTree(DataDir(), True, True, True);
  end;
end;
