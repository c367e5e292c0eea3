import Engine
import Foundation
import Testing
@testable import Host

/// Each kind of broken plugin fails to load with a message that names the file and says what
/// to do. The fixtures are compiled from Tests/HostTests/Fixtures with cc.
@Suite(.enabled(if: PluginTestSupport.cc != nil, "cc not found on PATH: the plugin fixtures cannot be built"))
struct PluginLoaderTests {
    typealias S = PluginTestSupport

    func loadError(_ path: String) -> String {
        do {
            _ = try PluginLoader.load(path)
            return "(loaded without error)"
        } catch {
            return "\(error)"
        }
    }

    @Test func missingFile() {
        let e = loadError("/nowhere/libmissing.so")
        #expect(e.hasPrefix("/nowhere/libmissing.so: no such file"))
        #expect(e.contains("build the plugin first"))
    }

    @Test func notASharedLibrary() throws {
        let path = S.buildDir + "/libtext.so"
        try "not an ELF file\n".write(toFile: path, atomically: true, encoding: .utf8)
        let e = loadError(path)
        #expect(e.hasPrefix(path + ": is not a loadable shared library"))
        #expect(e.contains("cc -shared -fPIC"))
    }

    @Test func folderIsNotALibrary() {
        #expect(loadError(S.buildDir).contains("is a folder, not a shared library"))
    }

    @Test func noEntrySymbol() throws {
        let path = try S.fixture("no_entry")
        let e = loadError(path)
        #expect(e.hasPrefix(path + ": is a shared library but not a workbench plugin: it exports no workbench_plugin_entry_v1"))
        #expect(e.contains("WB_EXPORT"))
    }

    @Test func wrongMajor() throws {
        let path = try S.fixture("wrong_major")
        let e = loadError(path)
        #expect(e.hasPrefix(path + ": is built for plugin ABI 2"))
        #expect(e.contains("this workbench speaks ABI 1.0"))
        #expect(e.contains("rebuild the plugin against this workbench's include/workbench_plugin.h"))
    }

    @Test func missingRequiredFunction() throws {
        let path = try S.fixture("missing_function")
        let e = loadError(path)
        #expect(e == "\(path): plugin org.fixture.pooling.no-backward: the required function backward is missing (NULL); a pooling plugin must provide forward and backward; implement it and set it in the descriptor, then rebuild")
    }

    @Test func badDescriptor() throws {
        let path = try S.fixture("bad_descriptor")
        let e = loadError(path)
        #expect(e.hasPrefix("\(path): plugin #0: its id 'my pooling' is not a reverse-DNS name"))
        #expect(e.contains("fix the descriptor"))
    }

    @Test func olderMinorStillLoadsAndWorks() throws {
        let lib = try PluginLoader.load(try S.fixture("older_minor"))
        let d = try #require(lib.plugins.first)
        #expect(d.id == "org.fixture.pooling.older-minor" && d.abiMinor == 0)
        #expect(d.configKeys == [PluginConfigKey(name: "unused-scale", type: .float, defaultValue: "1.0", help: "a key from the old layout, without choices")])
        // get_extension lies beyond its struct_size: it reads as absent, never as garbage.
        #expect(d.getExtension("org.workbench.anything.v1") == nil)
        let failures = PluginChecker.check(d).filter { !$0.passed }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func loadingTwiceReturnsTheSameTable() throws {
        let path = try S.cExample()
        let a = try PluginLoader.load(path), b = try PluginLoader.load(path)
        #expect(a.plugins.map(\.pointer) == b.plugins.map(\.pointer))
    }

    @Test func builtinTableValidates() throws {
        let lib = try PluginLoader.library("builtin")
        #expect(lib.name == "builtin")
        for d in lib.plugins { #expect(d.library == "builtin") }
    }
}
