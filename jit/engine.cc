#include "jit/engine.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "jit/codegen.h"
#include "jit/codegen_sources_digest.h"
#include "jit/llvm_status.h"
#include "jit/object_cache.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "ops/base/atomic_file.h"
#include "ops/base/logging.h"
#include "ops/base/status_macros.h"

namespace kiln::jit {
namespace {

using Bytes = llvm::SmallVector<char, 0>;

// `key` with every character outside [A-Za-z0-9_] replaced by '_', so that it
// can appear in symbol and file names.
std::string SanitizeKey(absl::string_view key) {
  std::string sanitized(key);
  for (char& c : sanitized) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return sanitized;
}

std::string ModuleToString(const llvm::Module& module) {
  std::string text;
  llvm::raw_string_ostream stream(text);
  module.print(stream, /*AAW=*/nullptr);
  stream.flush();
  return text;
}

// Runs the new pass manager's O3 pipeline without its vectorizers and loop
// unrolling. Lowering already writes every loop in vectors of the host's
// width and register-blocks the products, so those passes found little to
// do here; they took over half of the compile time, the unroller mostly
// unrolling small loops of small kernels in full.
void Optimize(llvm::Module& module, llvm::TargetMachine& machine) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  tuning.LoopInterleaving = false;
  tuning.LoopUnrolling = false;
  // The analysis managers must be destroyed in the reverse order of their
  // construction, module manager first.
  llvm::LoopAnalysisManager loop_analyses;
  llvm::FunctionAnalysisManager function_analyses;
  llvm::CGSCCAnalysisManager cgscc_analyses;
  llvm::ModuleAnalysisManager module_analyses;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(module_analyses);
  builder.registerCGSCCAnalyses(cgscc_analyses);
  builder.registerFunctionAnalyses(function_analyses);
  builder.registerLoopAnalyses(loop_analyses);
  builder.crossRegisterProxies(loop_analyses, function_analyses, cgscc_analyses,
                               module_analyses);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, module_analyses);
}

// Machine code for `module` as an object file or as assembly text. The code
// generator rewrites the IR it runs on, so a module is emitted only once.
absl::StatusOr<Bytes> Emit(llvm::Module& module, llvm::TargetMachine& machine,
                           llvm::CodeGenFileType type) {
  Bytes bytes;
  llvm::raw_svector_ostream stream(bytes);
  llvm::legacy::PassManager passes;
  // addPassesToEmitFile returns true when it cannot emit this file type.
  if (machine.addPassesToEmitFile(passes, stream, /*DwoOut=*/nullptr, type)) {
    return absl::InternalError(
        absl::StrCat("the target machine for ", machine.getTargetTriple().str(),
                     " cannot emit ",
                     type == llvm::CodeGenFileType::ObjectFile ? "object files"
                                                               : "assembly"));
  }
  passes.run(module);
  return bytes;
}

// Checks that `object` is an object file for `triple` that defines
// `entry_name`, so that a damaged cache file is caught before the linker
// sees it.
absl::Status CheckObject(const llvm::MemoryBuffer& object,
                         const llvm::Triple& triple,
                         const std::string& entry_name) {
  llvm::Expected<std::unique_ptr<llvm::object::ObjectFile>> parsed =
      llvm::object::ObjectFile::createObjectFile(object.getMemBufferRef());
  KILN_RETURN_IF_ERROR(TakeError(parsed, "parsing the object file"));
  if ((*parsed)->getArch() != triple.getArch()) {
    return absl::DataLossError(
        absl::StrCat("the object file is not for ", triple.str()));
  }
  for (const llvm::object::SymbolRef& symbol : (*parsed)->symbols()) {
    llvm::Expected<llvm::StringRef> name = symbol.getName();
    KILN_RETURN_IF_ERROR(TakeError(name, "reading a symbol name"));
    llvm::Expected<uint32_t> flags = symbol.getFlags();
    KILN_RETURN_IF_ERROR(TakeError(flags, "reading symbol flags"));
    if (*name == entry_name &&
        !(*flags & llvm::object::SymbolRef::SF_Undefined)) {
      return absl::OkStatus();
    }
  }
  return absl::DataLossError(
      absl::StrCat("the object file does not define ", entry_name));
}

// Writes a cache entry whole or not at all (ops/base/atomic_file.h), so that
// a process reading the cache never sees half an object, even with several
// writers. The cache directory is made on first use.
absl::Status WriteCacheEntry(const std::filesystem::path& path,
                             absl::string_view bytes) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("creating directory ",
                                               path.parent_path().string(),
                                               ": ", error.message()));
  }
  return WriteFileAtomically(path.string(), bytes);
}

// Where the error reporter of ORC's ExecutionSession puts what it reports on
// this thread, while a ReportedErrorCapture is alive; null otherwise. ORC
// reports the cause of a failed link (such as "Symbols not found") there rather
// than in the error the lookup returns, which only says that materialisation
// failed. Linking runs on the thread that looks the symbol up, so a
// thread-local collects exactly the reports of that lookup.
thread_local std::string* reported_errors = nullptr;

class ReportedErrorCapture {
 public:
  explicit ReportedErrorCapture(std::string& sink) {
    previous_ = std::exchange(reported_errors, &sink);
  }
  ReportedErrorCapture(const ReportedErrorCapture&) = delete;
  ReportedErrorCapture& operator=(const ReportedErrorCapture&) = delete;
  ~ReportedErrorCapture() { reported_errors = previous_; }

 private:
  std::string* previous_;
};

void LogCacheProblem(const absl::Status& status) {
  if (VerbosityAtLeast(1)) {
    LogLine(absl::StrCat("jit object cache: ", status.ToString()));
  }
}

// Fails, quoting LLVM's verifier, if `module` is malformed. LLVM's code
// generator assumes verified input and ends the process on much that the
// verifier would have caught, so nothing unverified goes further.
absl::Status Verify(const llvm::Module& module) {
  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (!llvm::verifyModule(module, &stream)) return absl::OkStatus();
  stream.flush();
  return absl::InternalError(absl::StrCat("LLVM's verifier rejects module ",
                                          module.getName().str(), ": ",
                                          problems));
}

// The CPU feature the x86-64 vector function ABI needs for a libmvec
// function called `name`, or "" when it needs none beyond x86-64's SSE2.
// The ISA letter after "_ZGV" picks the registers that carry the vectors:
// b for xmm (SSE), c and d for ymm (AVX, AVX2), e for zmm (AVX-512).
absl::string_view VectorAbiFeature(llvm::StringRef name) {
  if (!name.starts_with("_ZGV") || name.size() < 5) return "";
  switch (name[4]) {
    case 'c':
      return "avx";
    case 'd':
      return "avx2";
    case 'e':
      return "avx512f";
    default:
      return "";
  }
}

// Fails if `module` calls a vector math function whose calling convention
// the target cannot honour: the call would pass its vector in registers
// the CPU does not have, and the program would die of an illegal
// instruction, or compute garbage, when it ran.
absl::Status CheckVectorAbiFeatures(const llvm::Module& module,
                                    const llvm::TargetMachine& machine) {
  const llvm::MCSubtargetInfo* target = machine.getMCSubtargetInfo();
  for (const llvm::Function& function : module) {
    if (!function.isDeclaration()) continue;
    const absl::string_view feature = VectorAbiFeature(function.getName());
    if (feature.empty()) continue;
    if (target->checkFeatures(absl::StrCat("+", feature))) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "module ", module.getName().str(), " calls ", function.getName().str(),
        ", whose vector ABI needs the CPU feature ", feature,
        ", which the target cpu ", machine.getTargetCPU().str(),
        " lacks; compile with narrower vectors or without the vector math "
        "library"));
  }
  return absl::OkStatus();
}

// Gives the kernel functions named in `kernels` external linkage, so that
// they survive optimisation as symbols of their own.
absl::Status ExportFunctions(llvm::Module& module,
                             const std::vector<std::string>& kernels) {
  for (const std::string& name : kernels) {
    llvm::Function* function = module.getFunction(name);
    if (function == nullptr || function->isDeclaration()) {
      return absl::InternalError(absl::StrCat("module ", module.getName().str(),
                                              " defines no kernel function ",
                                              name));
    }
    function->setLinkage(llvm::GlobalValue::ExternalLinkage);
  }
  return absl::OkStatus();
}

// The host's CPU features in a fixed order: the order LLVM reports them in
// follows a hash table, and the description must not vary between runs.
std::string SortedFeatures(const llvm::orc::JITTargetMachineBuilder& builder) {
  std::vector<std::string> features = builder.getFeatures().getFeatures();
  std::sort(features.begin(), features.end());
  return absl::StrJoin(features, ",");
}

}  // namespace

CompiledCode::CompiledCode(llvm::orc::LLJIT& jit, llvm::orc::JITDylib& dylib,
                           Entry entry, bool loaded_from_disk_cache)
    : jit_(jit),
      dylib_(dylib),
      entry_(entry),
      loaded_from_disk_cache_(loaded_from_disk_cache) {}

CompiledCode::~CompiledCode() {
  absl::Status status =
      ToStatus(jit_.getExecutionSession().removeJITDylib(dylib_),
               "unloading compiled code");
  // A destructor cannot return the failure, and it only leaks memory.
  if (!status.ok()) LogLine(status.ToString());
}

Engine::Engine(
    std::unique_ptr<llvm::orc::LLJIT> jit,
    std::unique_ptr<llvm::orc::JITTargetMachineBuilder> machine_builder)
    : jit_(std::move(jit)), machine_builder_(std::move(machine_builder)) {
  target_description_ = absl::StrCat(
      "kiln codegen ", kCodegenSourcesDigest, "; llvm ", LLVM_VERSION_STRING,
      "; ", jit_->getTargetTriple().str(), "; cpu ", machine_builder_->getCPU(),
      "; ", SortedFeatures(*machine_builder_));
}

Engine::~Engine() = default;

absl::StatusOr<Engine*> Engine::Get() {
  // Never destroyed: code compiled by the engine may outlive static
  // destruction order.
  static const absl::StatusOr<Engine*>* const engine = [] {
    absl::StatusOr<std::unique_ptr<Engine>> created = Create("");
    if (!created.ok()) return new absl::StatusOr<Engine*>(created.status());
    return new absl::StatusOr<Engine*>(created->release());
  }();
  return *engine;
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const std::string& cpu) {
  // Each returns true on failure.
  if (llvm::InitializeNativeTarget() ||
      llvm::InitializeNativeTargetAsmPrinter() ||
      llvm::InitializeNativeTargetAsmParser()) {
    return absl::InternalError("LLVM has no code generator for this host");
  }
  KILN_ASSIGN_OR_RETURN(
      llvm::orc::JITTargetMachineBuilder machine_builder,
      ToStatusOr(llvm::orc::JITTargetMachineBuilder::detectHost(),
                 "detecting the host CPU"));
  if (!cpu.empty()) {
    // LLVM only warns about an unknown CPU, and then emits generic code
    // under the unknown name; refuse it instead.
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> probe,
                          ToStatusOr(machine_builder.createTargetMachine(),
                                     "creating a target machine"));
    if (!probe->getMCSubtargetInfo()->isCPUStringValid(cpu)) {
      return absl::InvalidArgumentError(
          absl::StrCat("LLVM knows no cpu '", cpu, "' for ",
                       machine_builder.getTargetTriple().str()));
    }
    machine_builder.setCPU(cpu);
    machine_builder.getFeatures() = llvm::SubtargetFeatures();
  }
  return CreateFor(std::move(machine_builder));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::CreateFor(
    llvm::orc::JITTargetMachineBuilder detected) {
  auto machine_builder =
      std::make_unique<llvm::orc::JITTargetMachineBuilder>(std::move(detected));
  machine_builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // What LLJIT's JITLink linker needs on x86-64 ELF. LLJIT would set them on
  // its own copy; setting them here makes the TargetMachines Compile builds
  // agree with it.
  machine_builder->setRelocationModel(llvm::Reloc::PIC_);
  machine_builder->setCodeModel(llvm::CodeModel::Small);
  // Multiplies and adds stay separate operations, as in the reference
  // kernels, whatever the IR says.
  machine_builder->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;

  llvm::orc::LLJITBuilder jit_builder;
  jit_builder
      .setJITTargetMachineBuilder(*machine_builder)
      // Objects carry no static initializers, so no platform support is
      // needed; the generic one would add an IR module to every JITDylib.
      .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
      .setLinkProcessSymbolsByDefault(true)
      .setProcessSymbolsJITDylibSetup(
          [](llvm::orc::LLJIT& jit) -> llvm::Expected<llvm::orc::JITDylibSP> {
            llvm::orc::JITDylib& dylib =
                jit.getExecutionSession().createBareJITDylib(
                    "<kiln process symbols>");
            auto generator =
                llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
                    jit.getDataLayout().getGlobalPrefix());
            if (!generator) return generator.takeError();
            dylib.addGenerator(std::move(*generator));
            // glibc's vector math library, which programs built with
            // LoopProgram::vector_math_library call. Processes rarely link
            // it themselves. Without it those programs fail to link, with
            // an error naming the missing function.
            auto vector_math = llvm::orc::DynamicLibrarySearchGenerator::Load(
                "libmvec.so.1", jit.getDataLayout().getGlobalPrefix());
            if (vector_math) {
              dylib.addGenerator(std::move(*vector_math));
            } else {
              llvm::consumeError(vector_math.takeError());
            }
            return llvm::orc::JITDylibSP(&dylib);
          });
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::orc::LLJIT> jit,
                        ToStatusOr(jit_builder.create(), "creating the JIT"));
  // Failures while linking are returned to the lookup that caused them;
  // ORC's default reporter would print them a second time.
  jit->getExecutionSession().setErrorReporter([](llvm::Error error) {
    const std::string message = llvm::toString(std::move(error));
    if (reported_errors != nullptr) {
      absl::StrAppend(reported_errors, reported_errors->empty() ? "" : "; ",
                      message);
    } else if (VerbosityAtLeast(1)) {
      LogLine(absl::StrCat("ORC: ", message));
    }
  });
  return std::unique_ptr<Engine>(
      new Engine(std::move(jit), std::move(machine_builder)));
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::Load(
    std::unique_ptr<llvm::MemoryBuffer> object, const Symbols& symbols,
    bool from_disk_cache) {
  llvm::Expected<llvm::orc::JITDylib&> created =
      jit_->createJITDylib(symbols.dylib);
  KILN_RETURN_IF_ERROR(TakeError(created, "creating a JITDylib"));
  llvm::orc::JITDylib& dylib = *created;
  auto remove_and_fail = [&](absl::Status status) {
    llvm::consumeError(jit_->getExecutionSession().removeJITDylib(dylib));
    return status;
  };
  absl::Status added = ToStatus(jit_->addObjectFile(dylib, std::move(object)),
                                "adding the object file");
  if (!added.ok()) return remove_and_fail(added);

  // The entry first: its lookup links the object, so a symbol the object
  // needs and nothing defines fails here.
  std::vector<std::string> names = {symbols.entry};
  names.insert(names.end(), symbols.kernels.begin(), symbols.kernels.end());
  std::vector<llvm::orc::ExecutorAddr> addresses;
  for (const std::string& name : names) {
    std::string reported;
    llvm::Expected<llvm::orc::ExecutorAddr> address = [&] {
      ReportedErrorCapture capture(reported);
      return jit_->lookup(dylib, name);
    }();
    absl::Status found =
        TakeError(address, absl::StrCat("linking and looking up ", name));
    if (!found.ok()) {
      if (!reported.empty()) {
        found = absl::Status(
            found.code(),
            absl::StrCat(found.message(), "; because: ", reported));
      }
      return remove_and_fail(found);
    }
    addresses.push_back(*address);
  }
  std::unique_ptr<CompiledCode> code(
      new CompiledCode(*jit_, dylib, addresses[0].toPtr<CompiledCode::Entry>(),
                       from_disk_cache));
  for (size_t k = 1; k < addresses.size(); ++k) {
    code->kernels_.push_back(addresses[k].toPtr<CompiledCode::KernelEntry>());
  }
  return code;
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::LoadEmitted(
    Bytes bytes, const Symbols& symbols, Listings listings) {
  auto object = std::make_unique<llvm::SmallVectorMemoryBuffer>(
      std::move(bytes), symbols.entry, /*RequiresNullTerminator=*/false);
  KILN_ASSIGN_OR_RETURN(
      std::unique_ptr<CompiledCode> code,
      Load(std::move(object), symbols, /*from_disk_cache=*/false));
  code->ir_before_ = std::move(listings.ir_before);
  code->ir_after_ = std::move(listings.ir_after);
  code->assembly_ = std::move(listings.assembly);
  return code;
}

Engine::Symbols Engine::MakeSymbols(absl::string_view key,
                                    const LoopProgram* program,
                                    bool export_kernels) {
  Symbols symbols;
  const std::string symbol_key = SanitizeKey(key);
  symbols.entry = absl::StrCat("kiln_", symbol_key, "_entry");
  symbols.dylib = absl::StrCat("kiln_", symbol_key, "#", next_dylib_number_++);
  if (program != nullptr && export_kernels) {
    for (size_t k = 0; k < program->kernels.size(); ++k) {
      symbols.kernels.push_back(KernelFunctionName(
          symbols.entry, static_cast<int>(k), program->kernels[k].name));
    }
  }
  return symbols;
}

absl::StatusOr<llvm::SmallVector<char, 0>> Engine::EmitObject(
    llvm::Module& module, const Symbols& symbols, const CompileOptions& options,
    Listings& listings) {
  KILN_RETURN_IF_ERROR(Verify(module));
  module.setDataLayout(jit_->getDataLayout());
  module.setTargetTriple(jit_->getTargetTriple().str());
  llvm::orc::JITTargetMachineBuilder machine_builder = *machine_builder_;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> machine,
                        ToStatusOr(machine_builder.createTargetMachine(),
                                   "creating a target machine for the host"));
  KILN_RETURN_IF_ERROR(CheckVectorAbiFeatures(module, *machine));
  KILN_RETURN_IF_ERROR(ExportFunctions(module, symbols.kernels));

  if (options.keep_ir_before) listings.ir_before = ModuleToString(module);
  Optimize(module, *machine);
  if (options.keep_ir_after) listings.ir_after = ModuleToString(module);
  if (options.keep_assembly) {
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
    KILN_ASSIGN_OR_RETURN(
        Bytes text, Emit(*copy, *machine, llvm::CodeGenFileType::AssemblyFile));
    listings.assembly.assign(text.begin(), text.end());
  }
  return Emit(module, *machine, llvm::CodeGenFileType::ObjectFile);
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::LoadCacheEntry(
    const std::string& path, absl::string_view description,
    const Symbols& symbols) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file) {
    return absl::Status(
        file.getError() == std::errc::no_such_file_or_directory
            ? absl::StatusCode::kNotFound
            : absl::StatusCode::kUnavailable,
        absl::StrCat("reading ", path, ": ", file.getError().message()));
  }
  absl::StatusOr<absl::string_view> object = DecodeObjectCacheEntry(
      absl::string_view((*file)->getBufferStart(), (*file)->getBufferSize()),
      description);
  if (!object.ok()) {
    return absl::Status(object.status().code(),
                        absl::StrCat(path, ": ", object.status().message()));
  }
  // A copy, because the linker needs the object aligned as an object file
  // is, and inside the entry it follows a description of any length.
  std::unique_ptr<llvm::MemoryBuffer> copy =
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(object->data(), object->size()), path);
  // The checksum vouches for the bytes, not for the object: an entry can be
  // whole and still hold an object of the wrong kind.
  absl::Status usable =
      CheckObject(*copy, jit_->getTargetTriple(), symbols.entry);
  if (!usable.ok()) {
    return absl::Status(usable.code(),
                        absl::StrCat(path, ": ", usable.message()));
  }
  return Load(std::move(copy), symbols, /*from_disk_cache=*/true);
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::Compile(
    const LoopProgram& program, absl::string_view key,
    const CompileOptions& options) {
  const Symbols symbols = MakeSymbols(key, &program, options.export_kernels);

  std::filesystem::path cache_path;
  // What an entry must say it was compiled for: the target, the key and
  // whether kernels are exported, which all change the object.
  std::string description;
  if (!options.cache_dir.empty()) {
    if (key.empty()) {
      return absl::InvalidArgumentError(
          "compiling with an object cache needs a non-empty key");
    }
    const std::string variant = options.export_kernels ? ".kernels" : "";
    cache_path = std::filesystem::path(options.cache_dir) /
                 absl::StrCat(SanitizeKey(key), variant, kObjectCacheSuffix);
    description =
        absl::StrCat(target_description_, "\nkey ", key, "\nexported kernels ",
                     options.export_kernels ? "yes" : "no");
    absl::StatusOr<std::unique_ptr<CompiledCode>> cached =
        LoadCacheEntry(cache_path.string(), description, symbols);
    if (cached.ok()) return cached;
    if (!absl::IsNotFound(cached.status())) {
      LogCacheProblem(absl::Status(
          cached.status().code(),
          absl::StrCat("rebuilding: ", cached.status().message())));
    }
  }

  // One context and one TargetMachine per call keep concurrent compilations
  // apart; neither is thread-safe.
  llvm::LLVMContext context;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> module,
                        GenerateModule(program, symbols.entry, context));
  Listings listings;
  KILN_ASSIGN_OR_RETURN(Bytes bytes,
                        EmitObject(*module, symbols, options, listings));

  if (!cache_path.empty()) {
    absl::Status written = WriteCacheEntry(
        cache_path,
        EncodeObjectCacheEntry(description,
                               absl::string_view(bytes.data(), bytes.size())));
    if (!written.ok()) LogCacheProblem(written);
  }
  return LoadEmitted(std::move(bytes), symbols, std::move(listings));
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::CompileModule(
    llvm::Module& module, const std::string& entry_name,
    const CompileOptions& options) {
  Symbols symbols;
  symbols.entry = entry_name;
  symbols.dylib = absl::StrCat(entry_name, "#", next_dylib_number_++);
  Listings listings;
  KILN_ASSIGN_OR_RETURN(Bytes bytes,
                        EmitObject(module, symbols, options, listings));
  return LoadEmitted(std::move(bytes), symbols, std::move(listings));
}

}  // namespace kiln::jit
