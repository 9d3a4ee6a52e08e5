//! The Core Business Vocabulary (CBV 2.0) terms an EPCIS 2.0 JSON-LD document may write as bare
//! strings (`"bizStep": "shipping"`), and the Web URIs they stand for
//! (`https://ref.gs1.org/cbv/BizStep-shipping`). These are the scoped term definitions of GS1's
//! EPCIS 2.0 JSON-LD context, per field; a bare string that is not a term of its field stays as
//! written (a user vocabulary URI, say).

/// Where a field's bare terms expand to: a CBV Web URI prefix and the field's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vocabulary {
    pub prefix: &'static str,
    pub terms: &'static [&'static str],
}

impl Vocabulary {
    /// The Web URI of `term`, if it is one of this vocabulary's bare terms.
    pub fn expand(&self, term: &str) -> Option<String> {
        self.terms
            .binary_search(&term)
            .ok()
            .map(|_| format!("{}{term}", self.prefix))
    }

    /// The bare term of a Web URI of this vocabulary (`https://ref.gs1.org/cbv/BizStep-shipping`
    /// gives `shipping`), if it is one.
    pub fn bare<'a>(&self, uri: &'a str) -> Option<&'a str> {
        let term = uri.strip_prefix(self.prefix)?;
        self.terms.binary_search(&term).ok().map(|_| term)
    }
}

pub const BIZ_STEP: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/BizStep-",
    terms: &[
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ],
};

/// Dispositions; also the values of `persistentDisposition`'s `set` and `unset`.
pub const DISPOSITION: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/Disp-",
    terms: &[
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ],
};

/// Types of `sourceList` and `destinationList` entries.
pub const SOURCE_DESTINATION_TYPE: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/SDT-",
    terms: &["location", "owning_party", "possessing_party"],
};

/// Types of `bizTransactionList` entries.
pub const BIZ_TRANSACTION_TYPE: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/BTT-",
    terms: &[
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ],
};

/// `sensorReport` `type`: GS1 Web Vocabulary measurement types.
pub const MEASUREMENT_TYPE: Vocabulary = Vocabulary {
    prefix: "https://gs1.org/voc/",
    terms: &[
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "RadiantFlux",
        "RadiantIntensity",
        "Radioactivity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    ],
};

/// `sensorReport` `exception`.
pub const SENSOR_ALERT: Vocabulary = Vocabulary {
    prefix: "https://gs1.org/voc/",
    terms: &["ALARM_CONDITION", "ERROR_CONDITION"],
};

/// `sensorReport` `component`.
pub const COMPONENT: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/Comp-",
    terms: &[
        "altitude",
        "axial_distance",
        "azimuth",
        "easting",
        "elevation_angle",
        "height",
        "latitude",
        "longitude",
        "northing",
        "polar_angle",
        "spherical_radius",
        "x",
        "y",
        "z",
    ],
};

/// `errorDeclaration` `reason`.
pub const ERROR_REASON: Vocabulary = Vocabulary {
    prefix: "https://ref.gs1.org/cbv/ER-",
    terms: &["did_not_occur", "incorrect_data"],
};

/// Prefixes GS1's EPCIS 2.0 context defines (CURIEs such as `cbv:BizStep-shipping`).
pub const CONTEXT_PREFIXES: &[(&str, &str)] = &[
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("gs1", "https://gs1.org/voc/"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_lists_are_sorted_so_lookups_find_them() {
        for v in [
            BIZ_STEP,
            DISPOSITION,
            SOURCE_DESTINATION_TYPE,
            BIZ_TRANSACTION_TYPE,
            MEASUREMENT_TYPE,
            SENSOR_ALERT,
            COMPONENT,
            ERROR_REASON,
        ] {
            assert!(v.terms.windows(2).all(|w| w[0] < w[1]), "{}", v.prefix);
        }
        assert_eq!(
            BIZ_STEP.expand("shipping").as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(BIZ_STEP.expand("shipped"), None);
        assert_eq!(
            DISPOSITION.bare("https://ref.gs1.org/cbv/Disp-in_transit"),
            Some("in_transit")
        );
    }
}
