#include "jit/engine.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "jit/codegen.h"
#include "jit/llvm_status.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
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

// Replaces `path` with `bytes` in one step: readers see the old file or the
// new one, never a partial write, even with several writers.
absl::Status WriteFileAtomically(const std::filesystem::path& path,
                                 llvm::StringRef bytes) {
  static std::atomic<uint64_t> next_temporary{0};
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("creating directory ",
                                               path.parent_path().string(),
                                               ": ", error.message()));
  }
  std::filesystem::path temporary = path;
  temporary += absl::StrCat(".tmp.", getpid(), ".", next_temporary++);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary, error);
      return absl::UnavailableError(
          absl::StrCat("writing ", temporary.string()));
    }
  }
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return absl::UnavailableError(absl::StrCat("renaming ", temporary.string(),
                                               " to ", path.string(), ": ",
                                               error.message()));
  }
  return absl::OkStatus();
}

void LogCacheProblem(const absl::Status& status) {
  if (VerbosityAtLeast(1)) {
    LogLine(absl::StrCat("jit object cache: ", status.ToString()));
  }
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
      "kiln codegen ", kCodegenRevision, "; llvm ", LLVM_VERSION_STRING, "; ",
      jit_->getTargetTriple().str(), "; cpu ", machine_builder_->getCPU(), "; ",
      SortedFeatures(*machine_builder_));
}

Engine::~Engine() = default;

absl::StatusOr<Engine*> Engine::Get() {
  // Never destroyed: code compiled by the engine may outlive static
  // destruction order.
  static const absl::StatusOr<Engine*>* const engine =
      new absl::StatusOr<Engine*>(Create());
  return *engine;
}

absl::StatusOr<Engine*> Engine::Create() {
  // Each returns true on failure.
  if (llvm::InitializeNativeTarget() ||
      llvm::InitializeNativeTargetAsmPrinter() ||
      llvm::InitializeNativeTargetAsmParser()) {
    return absl::InternalError("LLVM has no code generator for this host");
  }
  KILN_ASSIGN_OR_RETURN(
      llvm::orc::JITTargetMachineBuilder detected,
      ToStatusOr(llvm::orc::JITTargetMachineBuilder::detectHost(),
                 "detecting the host CPU"));
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
    absl::Status status = ToStatus(std::move(error), "JIT session");
    if (VerbosityAtLeast(1)) LogLine(status.ToString());
  });
  return new Engine(std::move(jit), std::move(machine_builder));
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::Load(
    std::unique_ptr<llvm::MemoryBuffer> object, const std::string& dylib_name,
    const std::string& entry_name, bool from_disk_cache) {
  llvm::Expected<llvm::orc::JITDylib&> created =
      jit_->createJITDylib(dylib_name);
  KILN_RETURN_IF_ERROR(TakeError(created, "creating a JITDylib"));
  llvm::orc::JITDylib& dylib = *created;
  auto remove_and_fail = [&](absl::Status status) {
    llvm::consumeError(jit_->getExecutionSession().removeJITDylib(dylib));
    return status;
  };
  absl::Status added = ToStatus(jit_->addObjectFile(dylib, std::move(object)),
                                "adding the object file");
  if (!added.ok()) return remove_and_fail(added);
  llvm::Expected<llvm::orc::ExecutorAddr> address =
      jit_->lookup(dylib, entry_name);
  absl::Status found =
      TakeError(address, absl::StrCat("linking and looking up ", entry_name));
  if (!found.ok()) return remove_and_fail(found);
  return std::unique_ptr<CompiledCode>(new CompiledCode(
      *jit_, dylib, address->toPtr<CompiledCode::Entry>(), from_disk_cache));
}

absl::StatusOr<std::unique_ptr<CompiledCode>> Engine::Compile(
    const LoopProgram& program, absl::string_view key,
    const CompileOptions& options) {
  const std::string symbol_key = SanitizeKey(key);
  const std::string entry_name = absl::StrCat("kiln_", symbol_key, "_entry");
  const std::string dylib_name =
      absl::StrCat("kiln_", symbol_key, "#", next_dylib_number_++);

  std::filesystem::path cache_path;
  if (!options.cache_dir.empty()) {
    if (key.empty()) {
      return absl::InvalidArgumentError(
          "compiling with an object cache needs a non-empty key");
    }
    cache_path = std::filesystem::path(options.cache_dir) / (symbol_key + ".o");
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> cached =
        llvm::MemoryBuffer::getFile(cache_path.string(), /*IsText=*/false,
                                    /*RequiresNullTerminator=*/false);
    if (cached) {
      absl::Status usable =
          CheckObject(**cached, jit_->getTargetTriple(), entry_name);
      if (usable.ok()) {
        absl::StatusOr<std::unique_ptr<CompiledCode>> loaded =
            Load(std::move(*cached), dylib_name + ".cached", entry_name,
                 /*from_disk_cache=*/true);
        if (loaded.ok()) return loaded;
        usable = loaded.status();
      }
      LogCacheProblem(absl::Status(
          usable.code(), absl::StrCat("regenerating ", cache_path.string(),
                                      ": ", usable.message())));
    } else if (cached.getError() != std::errc::no_such_file_or_directory) {
      LogCacheProblem(absl::UnavailableError(absl::StrCat(
          "reading ", cache_path.string(), ": ", cached.getError().message())));
    }
  }

  // One context and one TargetMachine per call keep concurrent compilations
  // apart; neither is thread-safe.
  llvm::LLVMContext context;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> module,
                        GenerateModule(program, entry_name, context));
  module->setDataLayout(jit_->getDataLayout());
  module->setTargetTriple(jit_->getTargetTriple().str());
  llvm::orc::JITTargetMachineBuilder machine_builder = *machine_builder_;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> machine,
                        ToStatusOr(machine_builder.createTargetMachine(),
                                   "creating a target machine for the host"));

  std::string ir_before;
  if (options.keep_ir_before) ir_before = ModuleToString(*module);
  Optimize(*module, *machine);
  std::string ir_after;
  if (options.keep_ir_after) ir_after = ModuleToString(*module);
  std::string assembly;
  if (options.keep_assembly) {
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(*module);
    KILN_ASSIGN_OR_RETURN(
        Bytes text, Emit(*copy, *machine, llvm::CodeGenFileType::AssemblyFile));
    assembly.assign(text.begin(), text.end());
  }
  KILN_ASSIGN_OR_RETURN(
      Bytes bytes, Emit(*module, *machine, llvm::CodeGenFileType::ObjectFile));

  if (!cache_path.empty()) {
    absl::Status written = WriteFileAtomically(
        cache_path, llvm::StringRef(bytes.data(), bytes.size()));
    if (!written.ok()) LogCacheProblem(written);
  }
  auto object = std::make_unique<llvm::SmallVectorMemoryBuffer>(
      std::move(bytes), entry_name, /*RequiresNullTerminator=*/false);
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<CompiledCode> code,
                        Load(std::move(object), dylib_name, entry_name,
                             /*from_disk_cache=*/false));
  code->ir_before_ = std::move(ir_before);
  code->ir_after_ = std::move(ir_after);
  code->assembly_ = std::move(assembly);
  return code;
}

}  // namespace kiln::jit
